#include "Supervisor.h"

#include "util/Fs.h"
#include "util/Json.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace Kiln::Runs {

// Gives this process (the future script) a private mount namespace in which `paths` are read-only bind
// mounts, so even root cannot write there. Without the privilege for that (no root, no user namespaces),
// the folders stay read-only by their permissions only, and the output says so.
static void mountReadOnly(const std::vector<std::string>& paths) {
    if (paths.empty())
        return;
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
    if (!ok)
        dprintf(2,
                "kiln: note: dataset folders are read-only by permissions only (no mount namespace here)\n");
}

static std::vector<char*> cstrings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

int superviseMain(const fs::path& controlDir) {
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
        mountReadOnly(readOnly);
        if (memoryBytes > 0) {
            // The compute target's memory limit per run: address space, inherited by every child.
            rlimit limit{static_cast<rlim_t>(memoryBytes), static_cast<rlim_t>(memoryBytes)};
            ::setrlimit(RLIMIT_AS, &limit);
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

    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    Json exit = {{"status", status}, {"ended", Util::nowSeconds()}};
    exit["exit_code"] = WIFEXITED(status) ? Json(WEXITSTATUS(status)) : Json(nullptr);
    exit["signal"] = WIFSIGNALED(status) ? Json(WTERMSIG(status)) : Json(nullptr);
    Util::writeFileAtomic(controlDir / "exit.json", exit.dump());
    return 0;
}

} // namespace Kiln::Runs
