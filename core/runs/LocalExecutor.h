#pragma once
#include "runs/LogTailer.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace Kiln::Store {
class BlobStore;
}
namespace Kiln::Datasets {
class DatasetStore;
}
namespace Kiln::Environments {
class EnvironmentStore;
class EnvBuilder;
} // namespace Kiln::Environments
namespace Kiln::Compute {
class ComputeStore;
class LocalPool;
} // namespace Kiln::Compute

namespace Kiln::Runs {

class RunStore;

struct ExecutorConfig {
    std::filesystem::path runsDir;      // <workspace>/runs
    std::filesystem::path selfExe;      // kilnd, started again as `kilnd __supervise DIR`
    std::filesystem::path pythonModule; // folder holding the `kiln` Python package
    std::filesystem::path workspace;    // for compute secrets (Slurm tokens)
    std::string python;                 // interpreter for .py scripts
    std::string serverUrl;
    std::string caFile; // the certificate scripts verify an https serverUrl against
    std::chrono::milliseconds cancelGrace{5000};
    std::chrono::milliseconds tick{40};
};

// Runs scripts on this machine. Each run gets <runs>/<id>/ holding spec.json, output.log, child.json,
// exit.json, and wd/ (the snapshot, outputs/, logs/) where the script runs. Preparing (snapshot, datasets,
// environment build) happens on a thread per run; one thread starts queued runs, tails output and logs/
// into the store, settles runs that ended, and escalates cancels. Everything it needs to resume lives on
// disk and in the database, so a restarted kilnd picks live runs up again (recover()).
class LocalExecutor final {
public:
    struct Stores {
        RunStore& runs;
        Store::BlobStore& blobs;
        Datasets::DatasetStore& datasets;
        Environments::EnvironmentStore& environments;
        Environments::EnvBuilder& builder;
        Compute::ComputeStore& compute;
        Compute::LocalPool& pool;
    };
    LocalExecutor(ExecutorConfig config, Stores stores, std::function<void(std::int64_t, bool)> changed);
    ~LocalExecutor();
    LocalExecutor(const LocalExecutor&) = delete;
    LocalExecutor& operator=(const LocalExecutor&) = delete;

    void start(); // recovers runs left by a previous kilnd, then starts the thread
    void stop();  // stops the thread; runs keep going
    void enqueue(std::int64_t runId, const std::string& compute);
    // Queued runs in order: [{id, compute}].
    std::vector<std::pair<std::int64_t, std::string>> queue();
    // Cancels in any state, recording who asked: a queued run ends at once; a live one gets SIGTERM, then
    // SIGKILL after the grace.
    void cancel(std::int64_t runId, const std::string& by = "the user");

private:
    struct Active {
        std::filesystem::path controlDir;
        std::filesystem::path workDir;
        std::int64_t supervisorPid = 0;
        bool ourChild = false;
        std::int64_t pgid = 0;
        std::optional<std::chrono::steady_clock::time_point> termSent;
        bool killSent = false;
        bool cancelRequested = false;
        std::string slurmJob; // set for runs on a Slurm target: polled instead of a supervisor
        std::string compute;
        std::chrono::steady_clock::time_point lastPoll{};
        bool slurmCancelSent = false;
    };

    struct Preparing {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
        std::filesystem::path controlDir;
        bool done = false;
    };

    void loop();
    void tick();
    void recover();
    // Runs one step of a run's following; an exception is logged (once until the step succeeds again) and
    // the step is retried on the next tick instead of leaving the thread.
    void guarded(std::int64_t runId, const char* what, const std::function<void()>& step);
    // On a Preparing thread: snapshot, datasets, environment, then the supervisor.
    void prepare(std::int64_t runId, int slot, double dispatchedAt,
                 std::shared_ptr<std::atomic<bool>> cancel);
    void prepareRun(std::int64_t runId, int slot, double dispatchedAt,
                    std::shared_ptr<std::atomic<bool>> cancel);
    // Ends a Preparing thread's work: hands a started run (if any) to the loop.
    void handOver(std::int64_t runId, std::optional<Active> started);
    void settle(std::int64_t runId, Active& a);
    void escalateCancel(Active& a);
    // Follows a Slurm job: maps its state onto the run and writes exit.json when it ends.
    void pollSlurm(std::int64_t runId, Active& a);
    void fail(std::int64_t runId, const std::string& error);
    // Replaces {dataset:...} references by folders prepared under controlDir; returns the read-only ones.
    std::vector<std::string> resolveDatasets(std::int64_t runId, std::vector<std::string>& args,
                                             const std::filesystem::path& controlDir);

    ExecutorConfig m_config;
    RunStore& m_runs;
    LogTailer m_tailer;
    Store::BlobStore& m_blobs;
    Datasets::DatasetStore& m_datasets;
    Environments::EnvironmentStore& m_environments;
    Environments::EnvBuilder& m_builder;
    Compute::ComputeStore& m_compute;
    Compute::LocalPool& m_pool;
    std::function<void(std::int64_t, bool statusChanged)> m_changed;

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::pair<std::int64_t, std::string>> m_queue; // FIFO of (run, compute target)
    std::set<std::int64_t> m_cancels;
    std::vector<std::pair<std::int64_t, std::string>> m_unrecorded; // failures to record again; m_mutex
    std::vector<std::int64_t> m_unreaped; // supervisors that ended but were not yet waited for; loop only
    bool m_linkDatasets = false;          // dataset mounts may hard-link blobs: a read-only mount is certain
    std::atomic<bool> m_stop{false};      // read by Preparing threads too
    std::map<std::int64_t, Preparing> m_preparing;           // guarded by m_mutex
    std::vector<std::pair<std::int64_t, Active>> m_started;  // prepared runs handed to the loop; m_mutex
    std::map<std::int64_t, Active> m_active;                 // executor thread only
    std::set<std::pair<std::int64_t, std::string>> m_faults; // steps failing now, logged once; loop only
    std::thread m_thread;
};

} // namespace Kiln::Runs
