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

int pidfdOpen(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Waits for the script, sampling its process tree meanwhile: every `systemInterval` seconds a line of
// system metrics (SystemMetrics.h; 0: none), and with a memory limit its resident memory four times a
// second (real use, unlike an address-space rlimit, which numpy and torch pass at once by reserving memory
// they never touch): past the limit the tree is killed and the run fails saying so. The script's end wakes
// this at once (pidfd), not at the next sample.
Ended followChild(pid_t child, const fs::path& controlDir, double systemInterval, std::int64_t memoryBytes,
                  const std::function<void(const std::string&)>& note) {
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
        if (!recorder && memoryBytes <= 0) { // nothing to sample: just wait
            if (::waitpid(child, &out.status, 0) == child)
                break;
            continue;
        }
        auto next = recorder ? nextRecord : nextCheck;
        if (memoryBytes > 0)
            next = std::min(next, nextCheck);
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
        if (wait > 0) {
            if (pidfd >= 0) {
                pollfd p{pidfd, POLLIN, 0};
                ::poll(&p, 1, static_cast<int>(std::min<long long>(wait, 60'000)));
            } else {
                ::usleep(static_cast<useconds_t>(std::min<long long>(wait, 100)) * 1000);
            }
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
        int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        int in = ::open("/dev/null", O_RDONLY);
        if (out >= 0) {
            ::dup2(out, 1);
            ::dup2(out, 2);
        }
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
    Util::writeFileAtomic(controlDir / "child.json", Json{{"pid", child}, {"pgid", child}}.dump());

    auto note = [&output](const std::string& line) {
        // O_CREAT: the script (which creates the file as it starts) may not have got that far yet.
        if (int out = ::open(output.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644); out >= 0) {
            dprintf(out, "kiln: %s\n", line.c_str());
            ::close(out);
        }
    };
    const auto ended = followChild(child, controlDir, spec.value("system_interval", 1.0), memoryBytes, note);
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
    const pid_t child = ::fork();
    if (child < 0) {
        dprintf(2, "kiln: cannot start the script: fork failed: %s\n", std::strerror(errno));
        return 127;
    }
    if (child == 0) {
        ::execvp(argv[0], argv);
        dprintf(2, "kiln: cannot start %s: %s\n", argv[0], std::strerror(errno));
        ::_exit(127);
    }
    // A cancel (scancel's SIGTERM) reaches the script even where Slurm signals this process only; this
    // process stays until the script has ended, so that its last sample and its exit status are kept.
    g_jobChild = child;
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2})
        ::signal(sig, forwardToChild);
    const auto ended = followChild(child, controlDir, interval, 0,
                                   [](const std::string& line) { dprintf(2, "kiln: %s\n", line.c_str()); });
    if (WIFSIGNALED(ended.status)) { // end the way the script did, so Slurm records the same
        const int sig = WTERMSIG(ended.status);
        ::signal(sig, SIG_DFL);
        ::raise(sig);
        return 128 + sig;
    }
    return WIFEXITED(ended.status) ? WEXITSTATUS(ended.status) : 1;
}

} // namespace Kiln::Runs
