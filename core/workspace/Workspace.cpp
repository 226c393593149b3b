#include "Workspace.h"

#include "api/Client.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Workspace {

fs::path defaultDir() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return fs::path(xdg) / "kiln" / "workspace";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/tmp") / ".local" / "share" / "kiln" / "workspace";
}

static Location fromConfig(const fs::path& file) {
    auto j = Json::parse(Util::readFile(file));
    Location loc;
    loc.source = file.string();
    if (j.contains("url")) {
        loc.url = j.at("url").get<std::string>();
        loc.token = j.value("token", "");
        loc.caFile = j.value("ca", "");
    } else {
        fs::path dir = j.value("workspace", ".");
        loc.dir = dir.is_absolute() ? dir : fs::weakly_canonical(file.parent_path().parent_path() / dir);
    }
    return loc;
}

Location locate(const std::optional<std::string>& explicitWorkspace) {
    if (explicitWorkspace && !explicitWorkspace->empty()) {
        // A folder whose .kiln/config.json names a server stands for that remote workspace.
        const auto dir = fs::absolute(*explicitWorkspace);
        if (fs::exists(dir / ".kiln" / "config.json")) {
            auto loc = fromConfig(dir / ".kiln" / "config.json");
            if (loc.remote())
                return loc;
        }
        return {dir, {}, {}, {}, "--workspace"};
    }
    if (const char* env = std::getenv("KILN_WORKSPACE"); env && *env)
        return {fs::absolute(env), {}, {}, {}, "$KILN_WORKSPACE"};
    std::error_code ec;
    for (auto dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
        if (fs::exists(dir / ".kiln" / "config.json"))
            return fromConfig(dir / ".kiln" / "config.json");
        if (dir == dir.root_path())
            break;
    }
    return {defaultDir(), {}, {}, {}, "default local workspace"};
}

fs::path serverInfoPath(const fs::path& dir) {
    return dir / "server.json";
}

std::optional<ServerInfo> readServerInfo(const fs::path& dir) {
    auto text = Util::tryReadFile(serverInfoPath(dir));
    if (!text)
        return std::nullopt;
    try {
        auto j = Json::parse(*text);
        return ServerInfo{j.at("url"),        j.at("port"),      j.at("token"),
                          j.value("pid", 0L), j.value("ca", ""), {}};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void writeServerInfo(const fs::path& dir, const ServerInfo& info) {
    Json j = {{"url", info.url}, {"port", info.port}, {"token", info.token}, {"pid", info.pid}};
    if (!info.caFile.empty())
        j["ca"] = info.caFile;
    const auto text = j.dump(2);
    try {
        Util::writeFileAtomic(serverInfoPath(dir), text, 0600);
    } catch (const std::exception&) {
        // A full disk has no room for the temporary copy: rewrite the file where it is (a few hundred bytes
        // over its own, already allocated, block), else kilnd could not start read-only and say so.
        const int fd = ::open(serverInfoPath(dir).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        const bool ok = fd >= 0 &&
                        ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
                        ::ftruncate(fd, static_cast<off_t>(text.size())) == 0;
        if (fd >= 0)
            ::close(fd);
        if (!ok)
            throw;
    }
}

static fs::path selfDir() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::current_path() : exe.parent_path();
}

fs::path resourcesDir() {
    if (const char* env = std::getenv("KILN_RESOURCES"); env && *env)
        return env;
    auto installed = selfDir().parent_path() / "share" / "kiln";
    if (fs::exists(installed / "python" / "kiln"))
        return installed;
    return KILN_SOURCE_RESOURCES;
}

fs::path siblingExecutable(const std::string& name) {
    return selfDir() / name;
}

bool seedSampleDataset(Api::Client& client) {
    const fs::path data = "/usr/share/datasets/fashion-mnist";
    std::error_code ec;
    if (!fs::is_directory(data, ec))
        return false;
    for (const auto& d : client.get("/api/v1/datasets"))
        if (d["name"] == "fashion-mnist")
            return true;
    auto job = client.post(
        "/api/v1/datasets",
        {{"name", "fashion-mnist"},
         {"description", "Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, "
                         "28x28 grey, 10 classes; from Debian's dataset-fashion-mnist"},
         {"tags", {{"source", "debian"}, {"format", "idx"}}},
         {"sources", {{{"path", data.string()}}}}});
    client.waitJob(job["job"].get<std::int64_t>());
    return true;
}

namespace {
// The sample's data, once per workspace (see ensureServer). Never fails the start: a workspace without it
// still works, and the sample says what to register.
void offerSample(const fs::path& dir, ServerInfo& info) {
    const auto marker = dir / "sample-dataset";
    std::error_code ec;
    if (fs::exists(marker, ec))
        return;
    try {
        Api::Client client(info.url, info.token, std::chrono::seconds(60), info.caFile);
        const bool had = [&] {
            for (const auto& d : client.get("/api/v1/datasets"))
                if (d["name"] == "fashion-mnist")
                    return true;
            return false;
        }();
        if (!seedSampleDataset(client))
            return; // not installed: offered again once it is
        Util::writeFileAtomic(marker, "fashion-mnist\n");
        if (!had)
            info.note = "registered the Fashion-MNIST sample (Debian's dataset-fashion-mnist) as dataset "
                        "fashion-mnist: {dataset:fashion-mnist} in a run's arguments mounts it";
    } catch (const std::exception&) {
    }
}
} // namespace

std::optional<ServerInfo> runningServer(const fs::path& dir) {
    auto info = readServerInfo(dir);
    if (!info)
        return std::nullopt;
    try {
        Api::Client client(info->url, info->token, std::chrono::seconds(3), info->caFile);
        auto h = client.health();
        if (h.value("workspace", "") != fs::absolute(dir).lexically_normal().string() &&
            h.value("workspace", "") != fs::weakly_canonical(dir).string())
            return std::nullopt;
        return info;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

ServerInfo ensureServer(const fs::path& dirIn, std::chrono::milliseconds timeout) {
    const auto dir = fs::weakly_canonical(fs::absolute(dirIn));
    if (auto info = runningServer(dir))
        return *info;
    fs::create_directories(dir);
    const auto kilnd = siblingExecutable("kilnd");
    if (!fs::exists(kilnd))
        throw std::runtime_error("kilnd not found next to this program: " + kilnd.string());
    const auto before = readServerInfo(dir);
    const std::string exe = kilnd.string(), ws = dir.string(), log = (dir / "kilnd.log").string();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("cannot start kilnd (fork failed)");
    if (pid == 0) {
        // Detach twice so kilnd is no child of ours, has its own session, and outlives us.
        ::setsid();
        if (::fork() != 0)
            ::_exit(0);
        ::close_range(3, ~0U, 0);
        int nul = ::open("/dev/null", O_RDWR);
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(nul, 0);
        ::dup2(out >= 0 ? out : nul, 1);
        ::dup2(out >= 0 ? out : nul, 2);
        ::execl(exe.c_str(), exe.c_str(), "--workspace", ws.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto info = readServerInfo(dir);
        if (info && (!before || info->pid != before->pid || info->port != before->port)) {
            if (auto running = runningServer(dir)) {
                offerSample(dir, *running);
                return *running;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto logText = Util::tryReadFile(dir / "kilnd.log").value_or("");
    if (logText.size() > 600)
        logText = logText.substr(logText.size() - 600);
    throw std::runtime_error("kilnd did not start for " + dir.string() +
                             (logText.empty() ? "" : ":\n" + logText));
}

} // namespace Kiln::Workspace
