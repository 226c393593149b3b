#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace Kiln::Compute {
struct Target;
}

namespace Kiln::Runs {

struct RunRecord;

// A prepared run, ready to execute: its control folder (spec.json, output.log, exit.json), its working
// folder (the snapshot, outputs/, logs/), the command and its environment.
struct Launch {
    std::int64_t runId = 0;
    std::filesystem::path controlDir;
    std::filesystem::path workDir;
    std::vector<std::string> argv;
    std::vector<std::string> env; // NAME=VALUE
};

// What a backend tells the scheduler, from the backend's own threads.
class BackendListener {
public:
    virtual ~BackendListener() = default;
    // The run's process ended (exit.json is in its control folder, or nothing is, if it vanished).
    virtual void runEnded(std::int64_t runId) = 0;
    // A launch that could not happen at all (the cluster refused the job): the run fails with `error`.
    virtual void launchFailed(std::int64_t runId, const std::string& error) = 0;
    // The run's record changed (its status, node or job id): clients should look again.
    virtual void runChanged(std::int64_t runId) = 0;
};

// Where runs execute: this machine (LocalBackend) or a Slurm cluster (SlurmBackend); a Kubernetes backend
// fits the same interface (core/compute/BACKENDS.md). The scheduler calls these from its threads and never
// waits on a backend's slow work: a backend does anything that can block (a network call, a process
// start) on threads of its own, and reports through the BackendListener. Every method is thread-safe.
class Backend {
public:
    virtual ~Backend() = default;
    // Starts a prepared run on `target`. Returns quickly; the outcome arrives as runChanged, runEnded or
    // launchFailed. The run's record is Preparing when this is called.
    virtual void launch(const Launch& launch, const Compute::Target& target) = 0;
    // Follows a run that a previous kilnd launched (kilnd restarted); false if it cannot be found, in which
    // case its ending is unknown.
    virtual bool adopt(const RunRecord& run, const std::filesystem::path& controlDir) = 0;
    // Stops the run: politely, then by force after the grace period. Harmless for a run that ended.
    virtual void cancel(std::int64_t runId) = 0;
    // The scheduler has settled the run: forget it.
    virtual void forget(std::int64_t runId) = 0;
    // Stops the backend's threads; the runs themselves keep going.
    virtual void stop() = 0;
};

} // namespace Kiln::Runs
