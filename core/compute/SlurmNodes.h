#pragma once
#include "util/Json.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace Kiln::Compute {

struct Target;

// The Slurm targets' node lists, read from slurmrestd by one background thread and served from memory, so
// that no request thread ever waits on a cluster (one that does not answer holds this thread only). A
// target's nodes are read again every few seconds while someone has asked for them in the last minute;
// `changed` is called when a target's nodes (or its error) change.
class SlurmNodes final {
public:
    SlurmNodes(std::filesystem::path workspace, std::function<void()> changed,
               std::chrono::milliseconds every = std::chrono::seconds(3));
    ~SlurmNodes();
    SlurmNodes(const SlurmNodes&) = delete;
    SlurmNodes& operator=(const SlurmNodes&) = delete;

    struct View {
        Json nodes = Json::array(); // [{name, state, cpus, memory_mb, run: null, cpu_load?}]
        std::string error;          // why the last read failed, if it did
        double checkedAgo = -1;     // seconds since the last read ended; -1: not read yet
    };
    // What is known now (nothing waits); asks the thread to keep this target's nodes fresh.
    View get(const Target& target);
    // Nodes read by someone else (provisioning reads them): known from now, as if just read.
    void seed(const Target& target, const Json& slurmNodes);
    // slurmrestd's node records as GET /compute/{name} shows them.
    static Json describe(const Json& slurmNodes);

private:
    struct Entry {
        Json config;
        std::chrono::steady_clock::time_point asked, checked;
        bool everChecked = false;
        View view;
    };
    void loop();

    std::filesystem::path m_workspace;
    std::function<void()> m_changed;
    std::chrono::milliseconds m_every;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::map<std::string, Entry> m_targets;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace Kiln::Compute
