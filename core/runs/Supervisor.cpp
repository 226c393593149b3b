#include "Supervisor.h"

#include "runs/GpuSampler.h"
#include "runs/ProcessSampler.h"
#include "runs/SystemMetrics.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <memory>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace Kiln::Runs {

// Gives this process (the future script) a private mount namespace in which `paths` are read-only bind
// mounts, so even root cannot write there. Without the privilege for that (no root, no user namespaces),
// the folders stay read-only by their permissions only, and the output says so.
static bool mountReadOnly(const std::vector<std::string>& paths) {
    if (paths.empty())
        return true;
    if (const char* off = std::getenv("KILN_MOUNT_NAMESPACE"); off && std::string_view(off) == "off")
        return false;
    bool ok = ::unshare(CLONE_NEWNS) == 0;
    if (!ok) {
        const uid_t uid = ::getuid();
        const gid_t gid = ::getgid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
            auto put = [](const char* file, const std::string& text) {
                int fd = ::open(file, O_WRONLY);
                bool done =
                    fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
                if (fd >= 0)
                    ::close(fd);
                return done;
            };
            ok = put("/proc/self/setgroups", "deny") &&
                 put("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1") &&
                 put("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
        }
    }
    ok = ok && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    for (const auto& p : paths) {
        if (!ok)
            break;
        ok = ::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0 &&
             ::mount(nullptr, p.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr) == 0;
    }
    return ok;
}

bool mountNamespacesAvailable() {
    if (const char* off = std::getenv("KILN_MOUNT_NAMESPACE"); off && std::string_view(off) == "off")
        return false;
    char dir[] = "/tmp/kiln-mount-probe-XXXXXX";
    if (!::mkdtemp(dir))
        return false;
    const pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(mountReadOnly({dir}) ? 0 : 1);
    int status = 1;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::rmdir(dir);
    return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static std::vector<char*> cstrings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

namespace {

std::string seconds(double s) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", s);
    return text;
}

struct Ended {
    int status = 0;
    std::string error;
    std::int64_t peakRssBytes = 0;
};

// The script's stdout and stderr come through a pipe to its supervisor, which writes them into the run's log
// (a file on the workspace's disk, or on a Slurm node the job's output file), so that a full disk never fails
// the script's own print(). While the disk is full, output waits here (up to 4 MB) and is written once there
// is room; past that, lines are dropped and counted, and the count follows what was kept ("12,345 lines not
// kept: the disk was full").
class OutputPump {
public:
    static constexpr std::size_t kHeld = 4u << 20;

    OutputPump(int from, int to)
        : m_from(from)
        , m_to(to) {
        ::fcntl(m_from, F_SETFL, ::fcntl(m_from, F_GETFL) | O_NONBLOCK);
    }
    ~OutputPump() { ::close(m_from); }
    OutputPump(const OutputPump&) = delete;
    OutputPump& operator=(const OutputPump&) = delete;

    int fd() const { return m_open ? m_from : -1; }
    bool waiting() const { return !m_held.empty() || m_dropped > 0; } // output held for a full disk
    // Writes what was held, then moves what the pipe holds now into the log.
    void pump() {
        flush();
        char buf[64 * 1024];
        while (m_open) {
            const auto n = ::read(m_from, buf, sizeof buf);
            if (n > 0) {
                write(buf, static_cast<std::size_t>(n));
            } else if (n == 0) {
                m_open = false; // every writer has closed it
            } else if (errno != EINTR) {
                if (errno != EAGAIN)
                    m_open = false;
                return;
            }
        }
    }
    // A line of the supervisor's own ("kiln: ..."), in order with the script's.
    void note(const std::string& line) {
        const std::string text = (m_lineOpen ? "\n" : "") + ("kiln: " + line + "\n");
        write(text.data(), text.size());
    }
    // At the end: lines that could not be written nor said in the log (the disk stayed full).
    std::uint64_t unsaid() {
        flush();
        if (!m_held.empty())
            drop(m_held.data(), m_held.size());
        m_held.clear();
        return m_dropped;
    }
    std::uint64_t dropped() const { return m_droppedTotal; }

private:
    // Writes what it can; how much that was (the disk may refuse the rest: ENOSPC, EDQUOT, EIO...).
    std::size_t writeSome(const char* p, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            const auto w = ::write(m_to, p + done, n - done);
            if (w > 0)
                done += static_cast<std::size_t>(w);
            else if (!(w < 0 && errno == EINTR))
                break;
        }
        if (done > 0) {
            m_lineOpen = p[done - 1] != '\n';
            if (std::memchr(p, '\n', done))
                m_cutShort = false;
        }
        return done;
    }
    void flush() {
        if (!m_held.empty())
            m_held.erase(0, writeSome(m_held.data(), m_held.size()));
        if (m_held.empty() && m_dropped > 0) {
            auto digits = std::to_string(m_dropped);
            for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
                digits.insert(static_cast<std::size_t>(at), ",");
            const auto text = std::string(m_lineOpen ? "\n" : "") + "kiln: " + digits +
                              (m_dropped == 1 ? " line" : " lines") + " not kept: the disk was full\n";
            if (writeSome(text.data(), text.size()) == text.size())
                m_dropped = 0;
        }
    }
    void write(const char* p, std::size_t n) {
        if (!waiting()) {
            const auto done = writeSome(p, n);
            p += done;
            n -= done;
        }
        if (n == 0)
            return;
        if (m_dropped == 0 && m_held.size() + n <= kHeld)
            m_held.append(p, n); // (in order: after what is held, before any count of dropped lines)
        else
            drop(p, n);
    }
    void drop(const char* p, std::size_t n) {
        // Every line that lost a byte of its text counts once (one begun before and cut short, or begun
        // here). A line that lost only its newline is whole in the log (the count's notice begins with one).
        std::uint64_t lines = 0;
        bool counted = m_cutShort;
        for (const char* c = p; c != p + n; ++c) {
            if (*c == '\n') {
                counted = false;
            } else if (!counted) {
                ++lines;
                counted = true;
            }
        }
        m_cutShort = counted;
        m_dropped += lines;
        m_droppedTotal += lines;
    }

    int m_from;
    int m_to;
    bool m_open = true;
    bool m_lineOpen = false; // the log's last byte is not a newline
    bool m_cutShort = false; // inside a line already counted as dropped
    std::string m_held;      // output the full disk has not taken yet
    std::uint64_t m_dropped = 0;
    std::uint64_t m_droppedTotal = 0;
};

int pidfdOpen(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Waits for the script, sampling its process tree meanwhile: every `systemInterval` seconds a line of
// system metrics (SystemMetrics.h; 0: none), and with a memory limit its resident memory four times a
// second (real use, unlike an address-space rlimit, which numpy and torch pass at once by reserving memory
// they never touch): past the limit the tree is killed and the run fails saying so. The script's end wakes
// this at once (pidfd), not at the next sample.
Ended followChild(pid_t child, const fs::path& controlDir, double systemInterval, std::int64_t memoryBytes,
                  OutputPump& output) {
    const auto note = [&output](const std::string& line) { output.note(line); };
    using Clock = std::chrono::steady_clock;
    Ended out;
    ProcessSampler sampler(child);
    std::unique_ptr<GpuSampler> gpus;
    std::unique_ptr<SystemRecorder> recorder;
    if (systemInterval > 0) {
        std::string why;
        gpus = GpuSampler::load(why);
        char host[256] = "this node";
        ::gethostname(host, sizeof host - 1);
        note(gpus ? "system metrics every " + seconds(systemInterval) + " on " + host + ", with " +
                        std::to_string(gpus->count()) + " GPU" + (gpus->count() == 1 ? "" : "s") +
                        " through NVML"
                  : "system metrics every " + seconds(systemInterval) + " on " + host +
                        ": CPU, memory and I/O only; no GPU readings: " + why);
        recorder =
            std::make_unique<SystemRecorder>(controlDir / kSystemMetricsFile, sampler.sample(), gpus.get());
    }
    const int pidfd = pidfdOpen(child);
    const auto start = Clock::now();
    const auto every = [](double seconds) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    };
    // The first samples come early (a quarter interval, then a half), so that a run shorter than the interval
    // has some too; then one every interval, on the grid.
    auto nextRecord = start + every(systemInterval / 4);
    auto nextCheck = start + every(0.25);
    for (;;) {
        const pid_t r = ::waitpid(child, &out.status, WNOHANG);
        if (r == child || (r < 0 && errno != EINTR))
            break;
        // Until the next sample (if any), the script's end or its output, whichever comes first.
        const bool sampling = recorder || memoryBytes > 0;
        auto next = recorder ? nextRecord : nextCheck;
        if (memoryBytes > 0)
            next = std::min(next, nextCheck);
        const auto wait =
            sampling ? std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count()
                     : 60'000;
        if (wait > 0) {
            pollfd fds[2];
            nfds_t n = 0;
            if (pidfd >= 0)
                fds[n++] = {pidfd, POLLIN, 0};
            if (output.fd() >= 0)
                fds[n++] = {output.fd(), POLLIN, 0};
            // (Output held for a full disk is tried again four times a second.)
            const long long most = pidfd >= 0 && !output.waiting() ? 60'000 : output.waiting() ? 250 : 100;
            ::poll(fds, n, static_cast<int>(std::min<long long>(wait, most)));
            output.pump();
            continue; // the script may have ended: wait for it first
        }
        const auto sample = sampler.sample();
        const auto now = Clock::now();
        if (memoryBytes > 0 && now >= nextCheck) {
            nextCheck = now + every(0.25);
            out.peakRssBytes = sample.peakRssBytes;
            if (sample.rssBytes > memoryBytes) {
                for (pid_t p : sample.pids)
                    ::kill(p, SIGKILL);
                ::kill(-child, SIGKILL);
                while (::waitpid(child, &out.status, 0) < 0 && errno == EINTR) {
                }
                const auto mb = [](std::int64_t b) { return std::to_string(b / (1024 * 1024)); };
                out.error = "memory limit of " + mb(memoryBytes) + " MB exceeded (the run's processes held " +
                            mb(sample.rssBytes) + " MB); it was stopped";
                note(out.error);
                break;
            }
        }
        if (recorder && now >= nextRecord) {
            recorder->record(sample);
            // The next sample on the grid, not `now + interval`: a slow read does not make samples drift.
            if (nextRecord < start + every(systemInterval))
                nextRecord = std::min(start + every(systemInterval), start + 2 * (nextRecord - start));
            while (nextRecord <= now)
                nextRecord += every(systemInterval);
        }
    }
    if (pidfd >= 0)
        ::close(pidfd);
    output.pump(); // what it wrote last (what its own children write after this is not waited for)
    return out;
}

} // namespace

int superviseMain(const fs::path& controlDir) {
    // Written before anything runs: a kilnd that went down between starting this supervisor and recording
    // it finds the run here, follows it and never starts it twice (Scheduler::recover).
    Util::writeFileAtomic(controlDir / "supervisor.json", Json{{"pid", ::getpid()}}.dump());
    Json spec;
    try {
        spec = Json::parse(Util::readFile(controlDir / "spec.json"));
    } catch (const std::exception& e) {
        Util::writeFileAtomic(controlDir / "exit.json", Json{{"error", e.what()}, {"exit_code", 127}}.dump());
        return 1;
    }
    ::setsid();
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE})
        ::signal(sig, SIG_IGN);

    auto argv = spec["argv"].get<std::vector<std::string>>();
    auto env = spec["env"].get<std::vector<std::string>>();
    const auto cwd = spec["cwd"].get<std::string>();
    const auto readOnly = spec.value("readonly", std::vector<std::string>{});
    const bool linked = spec.value("readonly_linked", false);
    const auto memoryBytes = spec.value("memory_bytes", std::int64_t(0));
    const auto cpus = spec.value("cpus", std::vector<int>{});
    const auto output = (controlDir / "output.log").string();
    auto cargv = cstrings(argv);
    auto cenv = cstrings(env);

    // Room for the exit record, taken now: written when the run ends, it must fit on a disk the script
    // filled.
    const auto reserve = controlDir / "exit.reserve";
    try {
        Util::writeFileAtomic(reserve, std::string(64 * 1024, '\0'));
    } catch (const std::exception&) { // (already full: the run will say so soon enough)
    }
    const int log = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int pipeFds[2] = {-1, -1};
    if (log < 0 || ::pipe2(pipeFds, O_CLOEXEC) != 0) {
        Util::writeFileAtomic(
            controlDir / "exit.json",
            Json{{"error", std::string("cannot open the run's log: ") + std::strerror(errno)},
                 {"exit_code", 127}}
                .dump());
        return 1;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        Util::writeFileAtomic(
            controlDir / "exit.json",
            Json{{"error", std::string("fork failed: ") + std::strerror(errno)}, {"exit_code", 127}}.dump());
        return 1;
    }
    if (child == 0) {
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE})
            ::signal(sig, SIG_DFL);
        ::setpgid(0, 0);
        int in = ::open("/dev/null", O_RDONLY);
        ::dup2(pipeFds[1], 1); // (the script's output goes through this supervisor: OutputPump)
        ::dup2(pipeFds[1], 2);
        if (in >= 0)
            ::dup2(in, 0);
        if (!mountReadOnly(readOnly)) {
            if (linked) { // the files are the store's own: without the mount a script could change them
                dprintf(2,
                        "kiln: cannot mount the dataset folders read-only here; refusing to run over the "
                        "workspace's stored files (set KILN_MOUNT_NAMESPACE=off for kilnd to copy them)\n");
                ::_exit(126);
            }
            dprintf(2, "kiln: note: dataset folders are read-only by permissions only (no mount namespace "
                       "here); they are private copies\n");
        }
        if (!cpus.empty()) {
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int c : cpus)
                CPU_SET(c, &set);
            ::sched_setaffinity(0, sizeof set, &set);
        }
        if (::chdir(cwd.c_str()) != 0) {
            dprintf(2, "kiln: cannot enter working folder %s: %s\n", cwd.c_str(), std::strerror(errno));
            ::_exit(127);
        }
        ::execvpe(cargv[0], cargv.data(), cenv.data());
        dprintf(2, "kiln: cannot start %s: %s\n", cargv[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(pipeFds[1]);
    OutputPump pump(pipeFds[0], log);
    // A run of a kilnd a test harness started (KILN_DIE_WITH_PID, tests/TestSupport) ends with the test: a
    // test that fails or dies leaves no script running on (kilnd itself may have stopped long before).
    if (const char* owner = std::getenv("KILN_DIE_WITH_PID"); owner && std::atol(owner) > 0)
        std::thread([owner = static_cast<pid_t>(std::atol(owner)), child] {
            while (::kill(owner, 0) == 0 || errno == EPERM)
                std::this_thread::sleep_for(std::chrono::milliseconds(500));
            ::kill(-child, SIGKILL);
        }).detach();
    try {
        Util::writeFileAtomic(controlDir / "child.json", Json{{"pid", child}, {"pgid", child}}.dump());
    } catch (const std::exception& e) { // (a full disk: kilnd finds the process group in the run's record)
        pump.note(std::string("could not record the script's process: ") + e.what());
    }
    const auto ended = followChild(child, controlDir, spec.value("system_interval", 1.0), memoryBytes, pump);
    const int status = ended.status;
    const auto& error = ended.error;
    const auto peak = ended.peakRssBytes;
    Json exit = {{"status", status}, {"ended", Util::nowSeconds()}};
    if (!error.empty())
        exit["error"] = error;
    if (memoryBytes > 0)
        exit["peak_rss_bytes"] = peak;
    exit["exit_code"] = WIFEXITED(status) ? Json(WEXITSTATUS(status)) : Json(nullptr);
    exit["signal"] = WIFSIGNALED(status) ? Json(WTERMSIG(status)) : Json(nullptr);
    if (const auto unsaid = pump.unsaid(); pump.dropped() > 0) {
        exit["dropped_lines"] = pump.dropped();
        exit["dropped_unsaid"] = unsaid; // (the log could not say so: kilnd adds it to the run's logs)
    }
    ::close(log);
    // The reserve makes way for the record: it is written even on a disk the script filled.
    std::error_code ec;
    fs::remove(reserve, ec);
    Util::writeFileAtomic(controlDir / "exit.json", exit.dump());
    return 0;
}

} // namespace Kiln::Runs

namespace Kiln::Runs {

namespace {
pid_t g_jobChild = 0;
void forwardToChild(int sig) {
    if (g_jobChild > 0)
        ::kill(g_jobChild, sig);
}
} // namespace

int superviseJobMain(const fs::path& controlDir, char** argv) {
    double interval = 1;
    try {
        interval = Json::parse(Util::readFile(controlDir / "spec.json")).value("system_interval", 1.0);
    } catch (const std::exception& e) {
        dprintf(2, "kiln: no run spec in %s (%s): system metrics every 1 s\n", controlDir.c_str(), e.what());
    }
    int pipeFds[2] = {-1, -1};
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        dprintf(2, "kiln: cannot start the script: %s\n", std::strerror(errno));
        return 127;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        dprintf(2, "kiln: cannot start the script: fork failed: %s\n", std::strerror(errno));
        return 127;
    }
    if (child == 0) {
        ::dup2(pipeFds[1], 1); // (through this process to the job's output file: OutputPump)
        ::dup2(pipeFds[1], 2);
        ::execvp(argv[0], argv);
        dprintf(2, "kiln: cannot start %s: %s\n", argv[0], std::strerror(errno));
        ::_exit(127);
    }
    // A cancel (scancel's SIGTERM) reaches the script even where Slurm signals this process only; this
    // process stays until the script has ended, so that its last sample and its exit status are kept.
    g_jobChild = child;
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2})
        ::signal(sig, forwardToChild);
    ::close(pipeFds[1]);
    OutputPump pump(pipeFds[0], 1);
    const auto ended = followChild(child, controlDir, interval, 0, pump);
    pump.unsaid();                   // (a last try at saying how many lines the node's full disk took)
    if (WIFSIGNALED(ended.status)) { // end the way the script did, so Slurm records the same
        const int sig = WTERMSIG(ended.status);
        ::signal(sig, SIG_DFL);
        ::raise(sig);
        return 128 + sig;
    }
    return WIFEXITED(ended.status) ? WEXITSTATUS(ended.status) : 1;
}

} // namespace Kiln::Runs
