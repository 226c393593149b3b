#include "EnvBuilder.h"

#include "util/Error.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;

namespace Kiln::Environments {

namespace {

constexpr const char* kMarker = ".kiln-complete";

// Runs argv with stdout+stderr sent line by line to `output`; returns the exit status text ("" on success).
std::string runLogged(const std::vector<std::string>& argv, const EnvBuilder::LineSink& output,
                      const std::function<bool()>& canceled, std::deque<std::string>& lastLines) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        int nul = ::open("/dev/null", O_RDONLY);
        ::dup2(nul, 0);
        ::execvp(args[0], args.data());
        dprintf(2, "cannot start %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string pending;
    char buf[8192];
    bool wasCanceled = false;
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        int r = ::poll(&p, 1, 100);
        if (canceled && canceled() && !wasCanceled) {
            wasCanceled = true;
            ::kill(-pid, SIGKILL);
        }
        if (r <= 0)
            continue;
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        pending.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            auto line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            output(line);
            lastLines.push_back(line);
            if (lastLines.size() > 25)
                lastLines.pop_front();
        }
    }
    if (!pending.empty()) {
        output(pending);
        lastLines.push_back(pending);
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (wasCanceled)
        return "canceled";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "killed by signal " + std::to_string(WTERMSIG(status));
}

std::string capture(const std::string& exe, const std::string& code) {
    std::deque<std::string> last;
    std::string out;
    try {
        if (!runLogged(
                 {exe, "-c", code}, [&](const std::string& l) { out += l; }, {}, last)
                 .empty())
            return {};
    } catch (const std::exception&) {
        return {};
    }
    return out;
}

} // namespace

std::string EnvBuilder::resolveInterpreter(const std::string& python) {
    if (python.empty())
        return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    if (python.find('/') != std::string::npos) {
        if (::access(python.c_str(), X_OK) != 0)
            throw badRequest("python interpreter not found or not executable: " + python);
        return python;
    }
    const bool isVersion = std::all_of(python.begin(), python.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
    });
    if (!isVersion)
        throw badRequest("python must be an interpreter path or a version such as 3.11, not '" +
                         python.substr(0, 100) + "'");
    std::vector<std::string> candidates;
    for (const char* dir : {"/usr/bin/", "/usr/local/bin/"}) {
        candidates.push_back(std::string(dir) + "python" + python);
        candidates.push_back(std::string(dir) + "python3");
    }
    std::string found;
    for (const auto& c : candidates) {
        if (::access(c.c_str(), X_OK) != 0)
            continue;
        auto version = capture(c, "import sys; print('%d.%d.%d' % sys.version_info[:3])");
        if (found.empty())
            found = version + " at " + c;
        if (version == python || version.rfind(python + ".", 0) == 0)
            return c;
    }
    throw badRequest("no python " + python + " on this machine" +
                     (found.empty() ? "" : " (found python " + found + ")"));
}

bool EnvBuilder::isBuilt(const Spec& spec) const {
    return fs::exists(m_cacheDir / spec.hash() / kMarker);
}

BuildResult EnvBuilder::ensure(const Spec& spec, const LineSink& output,
                               const std::function<bool()>& canceled) {
    const auto hash = spec.hash();
    const auto prefix = m_cacheDir / hash;
    BuildResult result{prefix / "bin" / "python", prefix, true};
    if (fs::exists(prefix / kMarker))
        return result;

    fs::create_directories(m_cacheDir);
    const auto lockPath = (m_cacheDir / (hash + ".lock")).string();
    int lock = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0)
        throw std::runtime_error("cannot lock the environment cache: " + lockPath);
    bool announced = false;
    while (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (!announced) {
            output("kiln: another run is building this environment; waiting for it");
            announced = true;
        }
        if (canceled && canceled()) {
            ::close(lock);
            throw UserError(499, "canceled");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }
    } unlock{lock};
    if (fs::exists(prefix / kMarker)) {
        output("kiln: environment built by another run; reusing it");
        return result;
    }
    std::error_code ec;
    fs::remove_all(prefix, ec); // a build that died half-way

    auto failWith = [&](const std::string& what, const std::deque<std::string>& last) -> UserError {
        std::error_code rmError;
        fs::remove_all(prefix, rmError);
        std::string msg = "environment build failed: " + what;
        for (const auto& l : last)
            msg += "\n" + l;
        return UserError(what == "canceled" ? 499 : 400, msg);
    };

    if (!spec.condaDependencies.empty()) {
        std::string names;
        for (const auto& d : spec.condaDependencies)
            names += (names.empty() ? "" : ", ") + d;
        throw failWith("conda packages need conda, which Kiln's venv builds do not use: " + names +
                           " (list them under pip: if they are pip packages)",
                       {});
    }
    const auto interpreter = resolveInterpreter(spec.python);
    output("kiln: building environment " + hash.substr(0, 12) + " on " + interpreter);
    const auto start = std::chrono::steady_clock::now();
    std::deque<std::string> last;
    auto status = runLogged({interpreter, "-m", "venv", "--system-site-packages", prefix.string()}, output,
                            canceled, last);
    if (!status.empty())
        throw failWith(status == "canceled" ? status : "python -m venv " + status, last);
    if (!spec.pip.empty()) {
        std::vector<std::string> pip = {result.python.string(),        "-m",        "pip", "install",
                                        "--disable-pip-version-check", "--no-input"};
        if (spec.noIndex)
            pip.push_back("--no-index");
        if (!spec.indexUrl.empty())
            pip.insert(pip.end(), {"--index-url", spec.indexUrl});
        for (const auto& f : spec.findLinks)
            pip.insert(pip.end(), {"--find-links", f});
        pip.insert(pip.end(), spec.pip.begin(), spec.pip.end());
        last.clear();
        status = runLogged(pip, output, canceled, last);
        if (!status.empty())
            throw failWith(status == "canceled" ? status : "pip install " + status, last);
    }
    std::ofstream(prefix / kMarker) << spec.toJson().dump(2) << "\n";
    const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", secs);
    output(std::string("kiln: environment built in ") + took + " s");
    result.reused = false;
    return result;
}

} // namespace Kiln::Environments
