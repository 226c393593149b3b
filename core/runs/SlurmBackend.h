#pragma once
#include "runs/Backend.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace Kiln::Compute {
class ComputeStore;
}

namespace Kiln::Runs {

class RunStore;

// Runs as batch jobs on Slurm clusters, through slurmrestd. Every call to slurmrestd (submit, poll,
// scancel; up to its 15 s timeout when it hangs) happens on this backend's own thread, so a slow cluster
// delays only its own runs. Slurm does not push events: the thread polls each job twice a second, maps
// PENDING/RUNNING onto the run, and writes the run's exit.json when the job ends.
class SlurmBackend final : public Backend {
public:
    SlurmBackend(RunStore& runs, BackendListener& listener, Compute::ComputeStore& compute,
                 std::filesystem::path workspace, std::filesystem::path selfExe);
    ~SlurmBackend() override;
    SlurmBackend(const SlurmBackend&) = delete;
    SlurmBackend& operator=(const SlurmBackend&) = delete;

    void launch(const Launch& launch, const Compute::Target& target) override;
    bool adopt(const RunRecord& run, const std::filesystem::path& controlDir) override;
    void cancel(std::int64_t runId) override;
    void forget(std::int64_t runId) override;
    void stop() override;

private:
    struct Job {
        std::string target;
        std::filesystem::path controlDir;
        std::string id; // Slurm's job id; empty until submitted
        bool cancel = false;
        bool cancelSent = false;
        bool ended = false;
        std::chrono::steady_clock::time_point lastPoll{};
    };
    struct Submission {
        Launch launch;
        std::string target;
    };
    void loop();
    void submit(const Submission& s);
    void poll(std::int64_t runId, Job job);

    RunStore& m_runs;
    BackendListener& m_listener;
    Compute::ComputeStore& m_compute;
    std::filesystem::path m_workspace;
    std::filesystem::path m_selfExe; // kilnd, to supervise the job on the node
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Submission> m_submissions;
    std::map<std::int64_t, Job> m_jobs;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace Kiln::Runs
