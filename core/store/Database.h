#pragma once
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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

// One SQLite connection in WAL mode for writing, behind lock(): the store owns the connection and
// serialises its writers, batching work into transactions. Long reads take a read-only connection of their
// own (reader()), which WAL lets proceed while the writer commits: a reader never waits for a writer, nor a
// writer for a reader.
class Database final {
public:
    enum class Mode {
        ReadWrite,
        // For a workspace whose disk is full: reads only (as it was last committed); every write fails
        // with 507 and `readOnlyReason`.
        ReadOnly,
        // A read-only connection beside a read-write one (reader()'s pool).
        Reader
    };
    explicit Database(const std::filesystem::path& file, Mode mode = Mode::ReadWrite,
                      std::string readOnlyReason = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    std::unique_lock<std::mutex> lock() { return std::unique_lock(m_mutex); }

    // A connection to read on, all its own while the lease lasts: `reader()->prepare(...)`. From a pool of
    // at most six read-only connections (more readers wait for one); on a database opened read-only, its
    // one connection, locked.
    class Reader final {
    public:
        Reader(Reader&& other) noexcept;
        Reader& operator=(Reader&&) = delete;
        ~Reader();
        Database* operator->() const { return m_conn; }
        Database& operator*() const { return *m_conn; }

    private:
        friend class Database;
        Reader(Database& pool, std::unique_ptr<Database> own, std::unique_lock<std::mutex> lock);
        Database* m_pool = nullptr;
        std::unique_ptr<Database> m_own;
        std::unique_lock<std::mutex> m_lock;
        Database* m_conn = nullptr;
    };
    Reader reader();

    // Copies the WAL back into the database file from a thread of its own (a passive checkpoint every
    // half second, never waiting for a reader) instead of inside whichever commit crossed SQLite's 1000-page
    // mark: a writer's commit then never pays for one. For kilnd's long-lived database; stops with it.
    void checkpointInBackground();
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
    void closeHandle(); // finalizes the cached statements and closes the connection (else SQLite keeps it)
    sqlite3* m_db = nullptr;
    std::mutex m_cacheMutex;
    std::unordered_map<std::string, std::vector<sqlite3_stmt*>> m_idle; // by SQL text
    std::size_t m_idleCount = 0;
    std::string m_readOnlyReason;
    std::mutex m_mutex;
    std::filesystem::path m_file;
    Mode m_mode = Mode::ReadWrite;
    std::mutex m_poolMutex; // (reader()'s pool of read-only connections)
    std::condition_variable m_poolFree;
    std::vector<std::unique_ptr<Database>> m_idleReaders;
    int m_readers = 0; // opened, idle or leased
    std::thread m_checkpointer;
    std::mutex m_checkpointMutex;
    std::condition_variable m_checkpointWake;
    bool m_closing = false;
};

// A write that failed for want of space, anywhere in this process (the database or the blob store), is
// noted, so that kilnd can say it is read-only while the disk is full (GET /health).
void noteDiskFull();
double secondsSinceDiskFull(); // a very large number when it never happened

} // namespace Kiln::Store
