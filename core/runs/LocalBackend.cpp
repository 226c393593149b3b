#include "LocalBackend.h"

#include "runs/RunStore.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace Kiln::Runs {

namespace {

int pidfdOpen(int pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Whether `pid` is still the supervisor of the run in `controlDir` (a pid may be reused after a reboot).
bool supervisorAlive(int pid, const fs::path& controlDir) {
    if (pid <= 0 || ::kill(pid, 0) != 0)
        return false;
    auto cmdline = Util::tryReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    return cmdline && cmdline->find(controlDir.string()) != std::string::npos;
}

} // namespace

LocalBackend::LocalBackend(RunStore& runs, BackendListener& listener, fs::path selfExe,
                           std::chrono::milliseconds cancelGrace)
    : m_runs(runs)
    , m_listener(listener)
    , m_selfExe(std::move(selfExe))
    , m_grace(cancelGrace)
    , m_epoll(::epoll_create1(EPOLL_CLOEXEC))
    , m_wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0; // 0: the wake-up eventfd; else a run id
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev);
    m_thread = std::thread([this] { loop(); });
}

LocalBackend::~LocalBackend() {
    stop();
    for (auto& [id, s] : m_supervised)
        if (s.pidfd >= 0)
            ::close(s.pidfd);
    ::close(m_epoll);
    ::close(m_wake);
}

void LocalBackend::stop() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    wake();
    if (m_thread.joinable())
        m_thread.join();
}

void LocalBackend::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake, &one, sizeof one);
}

void LocalBackend::watch(std::int64_t runId, Supervised s) {
    if (s.pidfd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = static_cast<std::uint64_t>(runId);
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, s.pidfd, &ev);
    }
    {
        std::lock_guard g(m_mutex);
        m_supervised[runId] = std::move(s);
    }
    wake();
}

void LocalBackend::launch(const Launch& l, const Compute::Target&) {
    const std::string exe = m_selfExe.string();
    const std::string dir = l.controlDir.string();
    const std::string supLog = (l.controlDir / "supervisor.log").string();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr); // kilnd blocks SIGTERM for sigwait; runs must not
        ::close_range(3, ~0U, 0);
        int nul = ::open("/dev/null", O_RDWR);
        int log = ::open(supLog.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(nul, 0);
        ::dup2(log >= 0 ? log : nul, 1);
        ::dup2(log >= 0 ? log : nul, 2);
        ::execl(exe.c_str(), exe.c_str(), "__supervise", dir.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Our child is not reaped before its pidfd says it ended, so the pidfd always finds it.
    Supervised s;
    s.controlDir = l.controlDir;
    s.pid = pid;
    s.pidfd = pidfdOpen(pid);
    s.ourChild = true;
    // The process runs from here on, whatever happens to its record: it is followed to its end.
    try {
        const auto moved = m_runs.transition(
            l.runId, RunStatus::Running,
            [&](RunRecord& r) {
                r.started = Util::nowSeconds();
                r.supervisorPid = pid;
            },
            RunStatus::Preparing);
        // The cancel flag is read in the transaction that makes the run Running: a cancel recorded before
        // it is seen here; one recorded after it finds the run Running and comes through cancel().
        s.cancel = !moved || moved->cancelRequested.has_value();
    } catch (const std::exception& e) { // a full disk: settled from Preparing when it ends
        std::cerr << "kilnd: run " << l.runId << ": cannot record its start: " << e.what() << std::endl;
    }
    watch(l.runId, std::move(s));
    m_listener.runChanged(l.runId);
}

bool LocalBackend::adopt(const RunRecord& run, const fs::path& controlDir) {
    Supervised s;
    s.controlDir = controlDir;
    s.pid = static_cast<int>(run.supervisorPid.value_or(0));
    s.pgid = static_cast<int>(run.pgid.value_or(0));
    s.cancel = run.cancelRequested.has_value();
    if (fs::exists(controlDir / "exit.json")) {
        s.ended = true; // ended while kilnd was away: reported by the loop
        watch(run.id, std::move(s));
        return true;
    }
    if (!supervisorAlive(s.pid, controlDir)) {
        if (s.pgid > 0)
            ::kill(-s.pgid, SIGKILL);
        return false;
    }
    s.pidfd = pidfdOpen(s.pid);
    if (s.pidfd < 0)
        return false;
    watch(run.id, std::move(s));
    return true;
}

void LocalBackend::cancel(std::int64_t runId) {
    {
        std::lock_guard g(m_mutex);
        auto it = m_supervised.find(runId);
        if (it == m_supervised.end())
            return;
        it->second.cancel = true;
    }
    wake();
}

void LocalBackend::forget(std::int64_t runId) {
    std::lock_guard g(m_mutex);
    auto it = m_supervised.find(runId);
    if (it == m_supervised.end())
        return;
    if (!it->second.ended && it->second.pidfd >= 0) {
        // Settled from its exit.json before its supervisor was seen to exit (it does right after writing
        // it): keep waiting on its pidfd, so that it is reaped and never left a zombie.
        it->second.forgotten = true;
        return;
    }
    m_supervised.erase(it);
}

void LocalBackend::loop() {
    using Clock = std::chrono::steady_clock;
    std::vector<epoll_event> events(64);
    int timeout = -1;
    for (;;) {
        const int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), timeout);
        std::vector<std::int64_t> ended, changed;
        std::vector<std::pair<std::int64_t, int>> started; // run, process group from child.json
        {
            std::lock_guard g(m_mutex);
            if (m_stop)
                return;
            for (int i = 0; i < n; ++i) {
                const auto id = static_cast<std::int64_t>(events[static_cast<std::size_t>(i)].data.u64);
                if (id == 0) {
                    std::uint64_t drained = 0;
                    [[maybe_unused]] auto r = ::read(m_wake, &drained, sizeof drained);
                    continue;
                }
                auto it = m_supervised.find(id);
                if (it == m_supervised.end() || it->second.ended)
                    continue;
                auto& s = it->second;
                // The supervisor exited (after writing exit.json, or it vanished): reap it if it is ours.
                ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, s.pidfd, nullptr);
                ::close(s.pidfd);
                s.pidfd = -1;
                if (s.ourChild) {
                    int status = 0;
                    while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {
                    }
                }
                s.ended = true;
                if (s.forgotten)
                    m_supervised.erase(it);
            }
            const auto now = Clock::now();
            timeout = -1;
            for (auto& [id, s] : m_supervised) {
                if (s.forgotten)
                    continue;
                if (s.ended) { // by its pidfd, or adopted after it had ended: reported once
                    if (!s.reported)
                        ended.push_back(id);
                    s.reported = true;
                    continue;
                }
                if (s.pgid == 0) {
                    if (auto child = Util::tryReadFile(s.controlDir / "child.json")) {
                        try {
                            s.pgid = Json::parse(*child).value("pgid", 0);
                            started.emplace_back(id, s.pgid);
                        } catch (const std::exception&) {
                        }
                    }
                    if (s.pgid == 0)
                        timeout = 20; // the script is starting: look for its process group again soon
                }
                if (s.cancel && s.pgid > 0) {
                    if (!s.termSent) {
                        ::kill(-s.pgid, SIGTERM);
                        s.termSent = now;
                    } else if (!s.killSent && now - *s.termSent >= m_grace) {
                        ::kill(-s.pgid, SIGKILL);
                        s.killSent = true;
                    }
                    if (!s.killSent) {
                        const auto left =
                            std::chrono::duration_cast<std::chrono::milliseconds>(*s.termSent + m_grace - now)
                                .count();
                        const int wait = static_cast<int>(std::max<long long>(1, left));
                        timeout = timeout < 0 ? wait : std::min(timeout, wait);
                    }
                }
            }
        }
        for (const auto& [id, pgid] : started) {
            try {
                m_runs.transition(id, RunStatus::Running, [pgid = pgid](RunRecord& r) { r.pgid = pgid; });
            } catch (const std::exception& e) { // a full disk: the group is known here all the same
                std::cerr << "kilnd: run " << id << ": cannot record its process group: " << e.what()
                          << std::endl;
            }
        }
        for (auto id : ended)
            m_listener.runEnded(id);
    }
}

} // namespace Kiln::Runs
