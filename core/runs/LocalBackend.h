#pragma once
#include "runs/Backend.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace Kiln::Runs {

class RunStore;

// Runs on this machine. Each run gets a supervisor (`kilnd __supervise DIR`, Supervisor.h) that owns the
// script's process group and writes exit.json when it ends, so runs outlive kilnd. One thread waits on
// every supervisor's pidfd (an exit is an event, not something polled for), picks up each script's process
// group from child.json, and carries cancels through: SIGTERM to the group, SIGKILL after the grace.
class LocalBackend final : public Backend {
public:
    LocalBackend(RunStore& runs, BackendListener& listener, std::filesystem::path selfExe,
                 std::chrono::milliseconds cancelGrace);
    ~LocalBackend() override;
    LocalBackend(const LocalBackend&) = delete;
    LocalBackend& operator=(const LocalBackend&) = delete;

    void launch(const Launch& launch, const Compute::Target& target) override;
    bool adopt(const RunRecord& run, const std::filesystem::path& controlDir) override;
    void cancel(std::int64_t runId) override;
    void forget(std::int64_t runId) override;
    void stop() override;

private:
    struct Supervised {
        std::filesystem::path controlDir;
        int pid = 0;
        int pidfd = -1;
        bool ourChild = false;
        int pgid = 0;
        bool cancel = false;
        std::optional<std::chrono::steady_clock::time_point> termSent;
        bool killSent = false;
        bool ended = false;
        bool reported = false;
        bool forgotten = false; // settled; still waited for, to be reaped
    };
    void loop();
    void watch(std::int64_t runId, Supervised s); // registers and wakes the loop
    void wake();

    RunStore& m_runs;
    BackendListener& m_listener;
    std::filesystem::path m_selfExe;
    std::chrono::milliseconds m_grace;
    std::mutex m_mutex;
    std::map<std::int64_t, Supervised> m_supervised;
    bool m_stop = false;
    int m_epoll = -1;
    int m_wake = -1; // eventfd
    std::thread m_thread;
};

} // namespace Kiln::Runs
