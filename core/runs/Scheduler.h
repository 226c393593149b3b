#pragma once
#include "runs/Backend.h"
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
namespace Kiln::Metrics {
class MetricStore;
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
struct Target;
} // namespace Kiln::Compute

namespace Kiln::Runs {

class RunStore;

struct SchedulerConfig {
    std::filesystem::path runsDir;      // <workspace>/runs
    std::filesystem::path selfExe;      // kilnd, started again as `kilnd __supervise DIR`
    std::filesystem::path pythonModule; // folder holding the `kiln` Python package
    std::filesystem::path workspace;    // for compute secrets (Slurm tokens)
    std::string python;                 // interpreter for .py scripts
    std::string serverUrl;
    std::string caFile; // the certificate scripts verify an https serverUrl against
    std::chrono::milliseconds cancelGrace{5000};
    std::chrono::milliseconds follow{100}; // how often live runs' output is read into the store
};

// Decides when each run starts, and carries it to its end. Event-driven: a submission, a cancel, a run's
// end, a freed node wake the dispatch thread, which never waits on anything slow itself:
//   - preparing (snapshot, datasets, environment build) runs on a thread per run;
//   - starting, following and stopping a run's process is its backend's (Backend.h: LocalBackend,
//     SlurmBackend), on the backend's own threads;
//   - reading output and logs/ into the store happens on a follower thread;
//   - settling an ended run (hashing its outputs) happens on a thread per run.
// Runs of a compute target start in submission order when it has a free node. Everything needed to resume
// is on disk and in the database: a restarted kilnd rebuilds the queue (each run once) and re-attaches to
// live runs before it takes any request (start()). No exception leaves any of these threads.
class Scheduler final : private BackendListener {
public:
    struct Stores {
        RunStore& runs;
        Metrics::MetricStore& metrics; // system metrics from the supervisors (LogTailer::tailSystem)
        Store::BlobStore& blobs;
        Datasets::DatasetStore& datasets;
        Environments::EnvironmentStore& environments;
        Environments::EnvBuilder& builder;
        Compute::ComputeStore& compute;
        Compute::LocalPool& pool;
    };
    // `changed(run, statusChanged)`: something of the run changed (clients are woken).
    Scheduler(SchedulerConfig config, Stores stores, std::function<void(std::int64_t, bool)> changed);
    ~Scheduler() override;
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    void start(); // recovers what a previous kilnd left, then starts the threads
    void stop();  // stops the threads; runs keep going
    void enqueue(std::int64_t runId, const std::string& compute);
    // Queued runs in order: [{id, compute}].
    std::vector<std::pair<std::int64_t, std::string>> queue();
    // Cancels in any state, recording who asked: a queued run ends at once; a live one is stopped by its
    // backend (SIGTERM, then SIGKILL after the grace; scancel on Slurm).
    void cancel(std::int64_t runId, const std::string& by = "the user");

private:
    struct Live { // launched (or being launched) on a backend, until settled
        Backend* backend = nullptr;
        std::filesystem::path controlDir;
        std::filesystem::path workDir;
        bool ended = false; // its backend said so: being settled
    };
    struct Preparing {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
        std::filesystem::path controlDir;
        bool done = false;
    };

    // BackendListener, called from backends' threads.
    void runEnded(std::int64_t runId) override;
    void launchFailed(std::int64_t runId, const std::string& error) override;
    void runChanged(std::int64_t runId) override;

    void recover();
    void dispatchLoop();
    void dispatch(std::unique_lock<std::mutex>& lock); // starts what can start; m_mutex held
    void followLoop();
    Backend& backendFor(const Compute::Target& target);
    // On a Preparing thread: snapshot, datasets, environment, then the backend's launch.
    void prepare(std::int64_t runId, int slot, double dispatchedAt,
                 std::shared_ptr<std::atomic<bool>> cancel);
    void prepareRun(std::int64_t runId, int slot, double dispatchedAt,
                    std::shared_ptr<std::atomic<bool>> cancel);
    // On a settling thread: the last output, outputs/ into the store, the final status; retried until it
    // can be recorded (a full disk).
    void settle(std::int64_t runId);
    void settleOnce(std::int64_t runId, const Live& live);
    void fail(std::int64_t runId, const std::string& error);
    // Replaces {dataset:...} references by folders prepared under controlDir; returns the read-only ones.
    std::vector<std::string> resolveDatasets(std::int64_t runId, std::vector<std::string>& args,
                                             const std::filesystem::path& controlDir);
    void logOnce(std::int64_t runId, const char* what, const std::exception& e);

    SchedulerConfig m_config;
    RunStore& m_runs;
    LogTailer m_tailer;
    Store::BlobStore& m_blobs;
    Datasets::DatasetStore& m_datasets;
    Environments::EnvironmentStore& m_environments;
    Environments::EnvBuilder& m_builder;
    Compute::ComputeStore& m_compute;
    Compute::LocalPool& m_pool;
    std::function<void(std::int64_t, bool statusChanged)> m_changed;
    std::unique_ptr<Backend> m_local;
    std::unique_ptr<Backend> m_slurm;
    bool m_linkDatasets = false; // dataset mounts may hard-link blobs: a read-only mount is certain

    std::mutex m_mutex;
    std::condition_variable m_cv;                             // wakes the dispatch thread
    bool m_dirty = false;                                     // an event arrived
    std::deque<std::pair<std::int64_t, std::string>> m_queue; // FIFO of (run, compute target)
    std::atomic<bool> m_stop{false};                          // read by Preparing threads too
    std::map<std::int64_t, Preparing> m_preparing;
    std::map<std::int64_t, Live> m_live;
    std::map<std::int64_t, std::thread> m_settling;
    std::vector<std::pair<std::int64_t, std::string>> m_unrecorded; // failures to record again
    std::set<std::pair<std::int64_t, std::string>> m_faults;        // steps failing now, logged once
    std::condition_variable m_followCv;
    std::mutex m_tailMutex; // one reader of runs' output files at a time (follower, settlers, preparers)
    std::thread m_dispatchThread;
    std::thread m_followThread;
};

} // namespace Kiln::Runs
