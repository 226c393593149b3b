#include "Database.h"

#include "Schema.h"
#include "util/Error.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace Kiln::Store {

// Why a read-only connection refuses writes (the same for every connection of this process: one workspace).
static std::string& readOnlyReason() {
    static std::string reason;
    return reason;
}

// SQLITE_FULL is the user's to fix (free space): 507; so is a write to a workspace opened read-only because
// its disk was full. Anything else is ours.
namespace {
std::atomic<std::int64_t> g_diskFullAt{0}; // steady clock, ms; 0: never
std::int64_t steadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

void noteDiskFull() {
    g_diskFullAt = std::max<std::int64_t>(1, steadyMs());
}

double secondsSinceDiskFull() {
    const auto at = g_diskFullAt.load();
    return at == 0 ? 1e18 : static_cast<double>(steadyMs() - at) / 1000;
}

[[noreturn]] static void fail(int rc, const std::string& message) {
    if ((rc & 0xff) == SQLITE_FULL)
        noteDiskFull();
    if ((rc & 0xff) == SQLITE_FULL)
        throw UserError(507, "the workspace's disk is full (" + message + "); free some space and try again");
    if ((rc & 0xff) == SQLITE_READONLY && !readOnlyReason().empty())
        throw UserError(507, readOnlyReason());
    throw std::runtime_error(message);
}

// A param's or tag's value for comparing and sorting: numbers (and text that is wholly a number, as a
// script logging "0.01" leaves it) as numbers; kiln_number gives NULL for anything else, kiln_value the text.
static void numericValue(sqlite3_context* ctx, int, sqlite3_value** argv, bool keepText) {
    sqlite3_value* v = argv[0];
    const int type = sqlite3_value_type(v);
    if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
        sqlite3_result_value(ctx, v);
        return;
    }
    if (type == SQLITE_TEXT) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(v));
        char* end = nullptr;
        const double d = std::strtod(text, &end);
        while (end && end != text && std::isspace(static_cast<unsigned char>(*end)))
            ++end;
        if (end != text && end && *end == '\0' && !std::isspace(static_cast<unsigned char>(*text))) {
            sqlite3_result_double(ctx, d);
            return;
        }
        if (keepText) {
            sqlite3_result_value(ctx, v);
            return;
        }
    }
    sqlite3_result_null(ctx);
}

static void registerFunctions(sqlite3* db) {
    constexpr int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    sqlite3_create_function(
        db, "kiln_number", 1, flags, nullptr,
        [](sqlite3_context* c, int n, sqlite3_value** v) { numericValue(c, n, v, false); }, nullptr, nullptr);
    sqlite3_create_function(
        db, "kiln_value", 1, flags, nullptr,
        [](sqlite3_context* c, int n, sqlite3_value** v) { numericValue(c, n, v, true); }, nullptr, nullptr);
}

static void check(sqlite3* db, int rc, std::string_view what) {
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail(rc, std::string(what.substr(0, 200)) + ": " + sqlite3_errmsg(db));
}

Statement::Statement(Database& db, std::string_view sql)
    : m_owner(db)
    , m_db(db.m_db)
    , m_stmt(db.take(sql)) {}

Statement::~Statement() {
    m_owner.give(m_stmt);
}

sqlite3_stmt* Database::take(std::string_view sql) {
    {
        std::lock_guard g(m_cacheMutex);
        if (auto it = m_idle.find(std::string(sql)); it != m_idle.end() && !it->second.empty()) {
            auto* stmt = it->second.back();
            it->second.pop_back();
            --m_idleCount;
            return stmt;
        }
    }
    sqlite3_stmt* stmt = nullptr;
    check(m_db,
          sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                             nullptr),
          sql);
    return stmt;
}

void Database::give(sqlite3_stmt* stmt) {
    if (!stmt)
        return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    // Queries built from user filters are each different: the cache keeps a bounded number of statements.
    constexpr std::size_t kMaxIdle = 512;
    {
        std::lock_guard g(m_cacheMutex);
        if (m_idleCount < kMaxIdle) {
            m_idle[sqlite3_sql(stmt)].push_back(stmt);
            ++m_idleCount;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

Statement& Statement::bind(int index, std::int64_t value) {
    check(m_db, sqlite3_bind_int64(m_stmt, index, value), "bind");
    return *this;
}
Statement& Statement::bind(int index, double value) {
    check(m_db, sqlite3_bind_double(m_stmt, index, value), "bind");
    return *this;
}
Statement& Statement::bind(int index, std::string_view value) {
    check(m_db,
          sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT),
          "bind");
    return *this;
}
Statement& Statement::bindBlob(int index, const void* data, std::size_t size) {
    check(m_db, sqlite3_bind_blob64(m_stmt, index, data, size, SQLITE_TRANSIENT), "bind");
    return *this;
}
std::string_view Statement::blob(int c) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt, c));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c)))
             : std::string_view();
}
Statement& Statement::bindNull(int index) {
    check(m_db, sqlite3_bind_null(m_stmt, index), "bind");
    return *this;
}
Statement& Statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bindNull(index);
}
Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bindNull(index);
}

bool Statement::step() {
    int rc = sqlite3_step(m_stmt);
    check(m_db, rc, sqlite3_sql(m_stmt));
    return rc == SQLITE_ROW;
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::int64_t Statement::int64(int c) const {
    return sqlite3_column_int64(m_stmt, c);
}
double Statement::real(int c) const {
    return sqlite3_column_double(m_stmt, c);
}
std::string Statement::text(int c) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c))) : std::string();
}
bool Statement::isNull(int c) const {
    return sqlite3_column_type(m_stmt, c) == SQLITE_NULL;
}
std::optional<double> Statement::optReal(int c) const {
    return isNull(c) ? std::nullopt : std::optional<double>(real(c));
}
std::optional<std::int64_t> Statement::optInt64(int c) const {
    return isNull(c) ? std::nullopt : std::optional<std::int64_t>(int64(c));
}

Database::Database(const std::filesystem::path& file, Mode mode, std::string reason)
    : m_file(file)
    , m_mode(mode) {
    if (mode == Mode::Reader) {
        // Beside the writer, which made the file and its WAL: reads what it has committed, never locking it.
        const std::string uri = "file:" + file.string() + "?mode=ro";
        const int rc = sqlite3_open_v2(
            uri.c_str(), &m_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
            closeHandle();
            throw std::runtime_error("cannot open database " + file.string() + " to read: " + msg);
        }
        sqlite3_busy_timeout(m_db, 5000);
        registerFunctions(m_db);
        return;
    }
    if (mode == Mode::ReadOnly) {
        // The last committed state. With a WAL holding transactions (kilnd stopped abruptly), SQLite reads
        // through it if its index can be mapped; else the file alone, as it was last checkpointed.
        m_readOnlyReason = reason.empty() ? "the workspace is read-only" : std::move(reason);
        readOnlyReason() = m_readOnlyReason;
        std::error_code ec;
        std::vector<std::string> ways;
        if (std::filesystem::file_size(file.string() + "-wal", ec) > 0 && !ec)
            ways.push_back("?mode=ro");
        ways.push_back("?immutable=1");
        std::string msg;
        for (const auto& way : ways) {
            const std::string uri = "file:" + file.string() + way;
            int rc = sqlite3_open_v2(uri.c_str(), &m_db,
                                     SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, nullptr);
            if (rc == SQLITE_OK) {
                try {
                    if (schemaVersion() == static_cast<int>(schemaMigrations().size())) {
                        sqlite3_busy_timeout(m_db, 5000);
                        registerFunctions(m_db);
                        return;
                    }
                    msg = "the workspace needs an upgrade, which needs room to write";
                } catch (const std::exception& e) {
                    msg = e.what();
                }
            } else {
                msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
            }
            closeHandle();
        }
        throw std::runtime_error("cannot open database " + file.string() + " read-only: " + msg);
    }
    // The workspace's database is its owner's alone (runs' tokens hashes, compute secrets' names): made 0600
    // before SQLite creates it, and an older workspace's file narrowed. SQLite gives its -wal and -shm
    // files the database's own mode.
    if (const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) {
        ::fchmod(fd, 0600);
        ::close(fd);
    }
    for (const char* suffix : {"-wal", "-shm"})
        ::chmod((file.string() + suffix).c_str(), 0600);
    int rc = sqlite3_open_v2(file.c_str(), &m_db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        sqlite3_close(m_db);
        throw std::runtime_error("cannot open database " + file.string() + ": " + msg);
    }
    sqlite3_busy_timeout(m_db, 5000);
    registerFunctions(m_db);
    // WAL lets readers (the CLI, a backup) proceed while kilnd writes. synchronous=NORMAL in WAL mode:
    // a committed transaction survives a crash of kilnd (the WAL is written before COMMIT returns); only an
    // OS crash or power loss may roll back the last transactions, and the file stays consistent either way.
    try {
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        migrate();
    } catch (...) {
        closeHandle(); // the destructor does not run for a constructor that throws
        throw;
    }
}

Database::~Database() {
    if (m_checkpointer.joinable()) {
        {
            std::lock_guard g(m_checkpointMutex);
            m_closing = true;
        }
        m_checkpointWake.notify_all();
        m_checkpointer.join();
    }
    m_idleReaders.clear();
    closeHandle();
}

void Database::checkpointInBackground() {
    if (m_mode != Mode::ReadWrite || m_checkpointer.joinable())
        return;
    {
        auto g = lock();
        exec("PRAGMA wal_autocheckpoint=0");
    }
    m_checkpointer = std::thread([this] {
        // Its own connection: a checkpoint takes no lock a writer or reader waits on (PASSIVE copies what
        // no reader still needs and leaves the rest for the next one).
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(m_file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
            SQLITE_OK) {
            sqlite3_close(db);
            auto g = lock();
            exec("PRAGMA wal_autocheckpoint=1000"); // (back to SQLite's own)
            return;
        }
        std::unique_lock lock(m_checkpointMutex);
        while (!m_closing) {
            m_checkpointWake.wait_for(lock, std::chrono::milliseconds(500), [this] { return m_closing; });
            lock.unlock();
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
            lock.lock();
        }
        sqlite3_close(db);
    });
}

Database::Reader Database::reader() {
    if (m_mode != Mode::ReadWrite) // (read-only already: its one connection)
        return Reader(*this, nullptr, lock());
    constexpr int kMaxReaders = 6; // (kilnd's request threads, its scheduler and sweeps: rarely all at once)
    std::unique_lock g(m_poolMutex);
    m_poolFree.wait(g, [this] { return !m_idleReaders.empty() || m_readers < kMaxReaders; });
    if (!m_idleReaders.empty()) {
        auto conn = std::move(m_idleReaders.back());
        m_idleReaders.pop_back();
        return Reader(*this, std::move(conn), {});
    }
    ++m_readers;
    g.unlock();
    try {
        return Reader(*this, std::make_unique<Database>(m_file, Mode::Reader), {});
    } catch (...) {
        g.lock();
        --m_readers;
        m_poolFree.notify_one();
        throw;
    }
}

Database::Reader::Reader(Database& pool, std::unique_ptr<Database> own, std::unique_lock<std::mutex> lock)
    : m_pool(&pool)
    , m_own(std::move(own))
    , m_lock(std::move(lock))
    , m_conn(m_own ? m_own.get() : &pool) {}

Database::Reader::Reader(Reader&& other) noexcept
    : m_pool(std::exchange(other.m_pool, nullptr))
    , m_own(std::move(other.m_own))
    , m_lock(std::move(other.m_lock))
    , m_conn(std::exchange(other.m_conn, nullptr)) {}

Database::Reader::~Reader() {
    if (!m_pool || !m_own)
        return; // (moved from, or the read-only database's own connection: its lock goes with m_lock)
    std::lock_guard g(m_pool->m_poolMutex);
    m_pool->m_idleReaders.push_back(std::move(m_own));
    m_pool->m_poolFree.notify_one();
}

void Database::closeHandle() {
    for (auto& [sql, stmts] : m_idle)
        for (auto* stmt : stmts)
            sqlite3_finalize(stmt);
    m_idle.clear();
    m_idleCount = 0;
    sqlite3_close(m_db);
    m_db = nullptr;
}

void Database::exec(std::string_view sql) {
    char* err = nullptr;
    std::string s(sql);
    if (const int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        fail(rc, "sql failed: " + msg);
    }
}

std::int64_t Database::lastInsertId() const {
    return sqlite3_last_insert_rowid(m_db);
}
int Database::changes() const {
    return sqlite3_changes(m_db);
}

int Database::schemaVersion() {
    Statement st(*this, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.int64(0));
}

void Database::migrate() {
    const auto& steps = schemaMigrations();
    int version = schemaVersion();
    if (version > static_cast<int>(steps.size()))
        throw std::runtime_error("workspace database is newer (schema " + std::to_string(version) +
                                 ") than this Kiln understands (" + std::to_string(steps.size()) + ")");
    for (auto i = static_cast<std::size_t>(version); i < steps.size(); ++i) {
        Transaction tx(*this);
        exec(steps[i]);
        exec("PRAGMA user_version=" + std::to_string(i + 1));
        tx.commit();
    }
}

Database::Transaction::Transaction(Database& db)
    : m_db(db) {
    m_db.exec("BEGIN IMMEDIATE");
}
Database::Transaction::~Transaction() {
    if (!m_done) {
        try {
            m_db.exec("ROLLBACK");
        } catch (...) {
        }
    }
}
void Database::Transaction::commit() {
    m_db.exec("COMMIT");
    m_done = true;
}

} // namespace Kiln::Store
