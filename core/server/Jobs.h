#pragma once
#include "util/Json.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Server {

class ChangeHub;

// Long operations the server runs for a client (dataset registration, downloads): each on its own thread,
// with progress a client can long-poll (GET /api/v1/jobs/{id}) and a cancel flag the work checks. Jobs live
// in memory: a kilnd restart forgets them, and the work they did is all-or-nothing.
class Jobs final {
public:
    class Job {
    public:
        std::int64_t id() const { return m_id; }
        bool canceled() const { return m_cancel.load(); }
        void setProgress(Json progress); // throttled notification
        Json snapshot() const;

    private:
        friend class Jobs;
        std::int64_t m_id = 0;
        std::string m_kind;
        std::string m_state = "running"; // running, succeeded, failed, canceled
        Json m_progress = Json::object();
        Json m_result;
        std::string m_error;
        int m_errorStatus = 0;
        std::uint64_t m_version = 0;
        std::atomic<bool> m_cancel{false};
        double m_lastNotify = 0;
        mutable std::mutex m_mutex;
        Jobs* m_jobs = nullptr;
    };
    using Work = std::function<Json(Job&)>; // returns the result; throws to fail
    // Makes the work of a job of some kind again from its recorded request (after a kilnd restart).
    using Resume = std::function<Work(const Json& request)>;

    // With a database, every job is recorded (kind, request, state, error, result): a client can still ask
    // about it after a restart, and recover() resumes or ends the ones a previous kilnd left running.
    explicit Jobs(ChangeHub& hub, Store::Database* db = nullptr)
        : m_hub(hub)
        , m_db(db) {}
    ~Jobs();
    Jobs(const Jobs&) = delete;
    Jobs& operator=(const Jobs&) = delete;

    // `request` is what resuming needs (never a secret: it is stored in the workspace database).
    std::int64_t start(const std::string& kind, Work work, const Json& request = Json::object());
    // Jobs a previous kilnd left running: those of a kind in `resume` start again under the same id (a
    // client following one goes on following it); the others end `failed` saying why.
    void recover(const std::map<std::string, Resume>& resume);
    std::shared_ptr<Job> find(std::int64_t id);
    bool cancel(std::int64_t id);
    // The hub channel of a job (job ids map below run ids, which start at 1).
    static std::int64_t channel(std::int64_t jobId) { return -jobId; }

private:
    void notify(Job& job);
    void run(const std::shared_ptr<Job>& job, Work work); // on the job's thread; m_mutex held
    void record(const Job& job);                          // its state into the database
    ChangeHub& m_hub;
    Store::Database* m_db;
    std::mutex m_mutex;
    std::int64_t m_next = 1;
    std::map<std::int64_t, std::shared_ptr<Job>> m_jobs;
    std::map<std::int64_t, std::thread> m_threads;
    bool m_stopping = false;
};

} // namespace Kiln::Server
