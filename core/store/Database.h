#pragma once
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace Kiln::Store {

class Database;

// A prepared statement, taken from its database's cache of compiled statements and given back (reset) when
// it goes: compiling costs more than running most of kilnd's statements.
class Statement final {
public:
    Statement(Database& db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bindNull(int index);
    Statement& bindBlob(int index, const void* data, std::size_t size); // copied
    Statement& bind(int index, const std::optional<double>& value);
    Statement& bind(int index, const std::optional<std::int64_t>& value);

    // Advances to the next row; false when done.
    bool step();
    void exec() {
        while (step()) {
        }
    }
    void reset();

    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    bool isNull(int column) const;
    std::string_view blob(int column) const; // valid until the next step() or reset()
    std::optional<double> optReal(int column) const;
    std::optional<std::int64_t> optInt64(int column) const;

private:
    Database& m_owner;
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

// One SQLite connection in WAL mode. Every access goes through lock(): the store owns the connection
// and serialises its users, batching work into transactions.
class Database final {
public:
    enum class Mode {
        ReadWrite,
        // For a workspace whose disk is full: reads only (as it was last committed); every write fails
        // with 507 and `readOnlyReason`.
        ReadOnly
    };
    explicit Database(const std::filesystem::path& file, Mode mode = Mode::ReadWrite,
                      std::string readOnlyReason = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    std::unique_lock<std::mutex> lock() { return std::unique_lock(m_mutex); }
    void exec(std::string_view sql);
    Statement prepare(std::string_view sql) { return Statement(*this, sql); }
    bool readOnly() const { return !m_readOnlyReason.empty(); }
    std::int64_t lastInsertId() const;
    int changes() const;
    int schemaVersion();

    // RAII transaction (caller holds the lock).
    class Transaction final {
    public:
        explicit Transaction(Database& db);
        ~Transaction();
        void commit();

    private:
        Database& m_db;
        bool m_done = false;
    };

private:
    friend class Statement;
    sqlite3_stmt* take(std::string_view sql); // a compiled statement for `sql`, from the cache or new
    void give(sqlite3_stmt* stmt);            // back to the cache, reset (or finalized when it is full)
    void migrate();
    sqlite3* m_db = nullptr;
    std::mutex m_cacheMutex;
    std::unordered_map<std::string, std::vector<sqlite3_stmt*>> m_idle; // by SQL text
    std::size_t m_idleCount = 0;
    std::string m_readOnlyReason;
    std::mutex m_mutex;
};

} // namespace Kiln::Store
