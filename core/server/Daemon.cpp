#include "Daemon.h"

#include "api/HttpServer.h"
#include "api/Service.h"
#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "compute/SlurmNodes.h"
#include "datasets/DatasetStore.h"
#include "environments/EnvBuilder.h"
#include "environments/EnvironmentStore.h"
#include "metrics/MetricStore.h"
#include "models/ModelStore.h"
#include "runs/RunStore.h"
#include "runs/Scheduler.h"
#include "server/ChangeHub.h"
#include "server/Jobs.h"
#include "store/BlobStore.h"
#include "store/Database.h"
#include "sweeps/Controller.h"
#include "sweeps/SweepStore.h"
#include "util/Crypto.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace Kiln::Server {

namespace {

// Returns `wanted` if it can be bound on `host` now, else a free port the kernel picks.
int choosePort(const std::string& host, int wanted) {
    for (int attempt : {wanted, 0}) {
        if (attempt < 0)
            continue;
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(attempt));
        ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            socklen_t len = sizeof addr;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
            ::close(fd);
            return ntohs(addr.sin_port);
        }
        ::close(fd);
    }
    throw std::runtime_error("no free port on " + host);
}

// Room enough to run read-write: SQLite's WAL index (32 KB) and a few pages of log lines and metrics.
constexpr std::uint64_t kRoomToWrite = 4u << 20;

std::uint64_t freeBytes(const fs::path& dir) {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0)
        return ~std::uint64_t(0);
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

} // namespace

int runDaemon(const DaemonOptions& options) {
    const auto ws = fs::weakly_canonical(fs::absolute(options.workspace));
    fs::create_directories(ws);
    ::umask(077);

    // One kilnd per workspace: the lock is held for the life of the process (and dropped by the kernel on
    // exit).
    int lockFd = ::open((ws / "kilnd.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockFd < 0 || ::flock(lockFd, LOCK_EX | LOCK_NB) != 0) {
        std::cerr << "kilnd: another kilnd already serves " << ws << "\n";
        return 3;
    }

    // Block the stop signals in every thread; the main thread waits for them below.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    // A full disk does not keep the workspace from being read: kilnd then serves it read-only (every write
    // answers 507 saying why) and restarts itself read-write once there is room again.
    std::unique_ptr<Store::Database> database;
    std::string readOnly;
    try {
        database = std::make_unique<Store::Database>(ws / "kiln.db");
    } catch (const std::exception& e) {
        if (freeBytes(ws) >= kRoomToWrite)
            throw;
        readOnly = "the workspace's disk is full (" + ws.string() +
                   "): kilnd serves it read-only until there is room again; free some space";
        std::cerr << "kilnd: " << readOnly << " (" << e.what() << ")" << std::endl;
        database =
            std::make_unique<Store::Database>(ws / "kiln.db", Store::Database::Mode::ReadOnly, readOnly);
    }
    Store::Database& db = *database;
    db.checkpointInBackground();
    Store::BlobStore blobs(ws / "blobs");
    Runs::RunStore runs(db);
    Metrics::MetricStore metrics(db);
    ChangeHub hub;
    Datasets::DatasetStore datasets(db);
    Environments::EnvironmentStore environments(db);
    Environments::EnvBuilder builder(ws / "envs");
    Compute::ComputeStore compute(db);
    Compute::LocalPool pool;
    Models::ModelStore models(db);
    // Every workspace has the local target "local"; --max-concurrent sets its size.
    if (!readOnly.empty()) {
        // Nothing can be changed: the target stays as it was.
    } else if (auto local = compute.get("local")) {
        if (options.maxConcurrent > 0) {
            local->config["max_nodes"] = options.maxConcurrent;
            compute.update(*local);
        }
    } else {
        Json request = {{"name", "local"}, {"type", "local"}};
        if (options.maxConcurrent > 0)
            request["max_nodes"] = options.maxConcurrent;
        auto target = Compute::targetFromRequest(request);
        target.state = "Succeeded";
        compute.create(target);
    }
    Jobs jobs(hub, &db);
    // A node's state changing is a change the studio's Compute panel follows (through GET /changes).
    Compute::SlurmNodes slurmNodes(ws, [&hub] { hub.notify(Api::Service::kWorkspaceChannel); });

    const auto previous = Workspace::readServerInfo(ws);
    const std::string token =
        previous && previous->token.size() >= 32 ? previous->token : Util::randomHex(32);
    int port = options.port > 0 ? options.port : choosePort(options.host, previous ? previous->port : 0);
    const bool tls = !options.tlsCertificate.empty();
    if (tls && (!fs::exists(options.tlsCertificate) || !fs::exists(options.tlsKey))) {
        std::cerr << "kilnd: --tls-cert and --tls-key must both name readable PEM files\n";
        return 2;
    }
    const std::string url = (tls ? "https://" : "http://") + options.host + ":" + std::to_string(port);

    Runs::SchedulerConfig config;
    config.runsDir = ws / "runs";
    config.workspace = ws;
    config.selfExe = fs::read_symlink("/proc/self/exe");
    config.pythonModule = Workspace::resourcesDir() / "python";
    if (const char* py = std::getenv("KILN_PYTHON"); py && *py)
        config.python = py;
    else
        config.python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    config.serverUrl = url;
    config.caFile =
        tls ? fs::absolute(options.tlsCertificate).string() : std::string(); // self-signed: its own CA

    Sweeps::SweepStore sweepStore(db);
    Sweeps::Controller sweeps(sweepStore, runs, metrics);
    Runs::Scheduler scheduler(config, {runs, metrics, blobs, datasets, environments, builder, compute, pool},
                              [&hub, &sweeps](std::int64_t id, bool statusChanged) {
                                  hub.notify(id);
                                  if (statusChanged) {
                                      hub.notify(Api::Service::kWorkspaceChannel);
                                      sweeps.runChanged(id);
                                  } else {
                                      sweeps.metricsLogged(id); // (sampled sys/ metrics may drive a policy)
                                  }
                              });

    Api::Service service({db,
                          runs,
                          metrics,
                          blobs,
                          scheduler,
                          hub,
                          datasets,
                          environments,
                          builder,
                          compute,
                          pool,
                          slurmNodes,
                          jobs,
                          models,
                          sweepStore,
                          sweeps,
                          token,
                          ws.string(),
                          readOnly,
                          options.maxPointsPerSecond,
                          [] {
                              // Answer first, then stop: the caller reads its reply before the listener
                              // closes.
                              std::thread([] {
                                  std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                  ::kill(::getpid(), SIGTERM);
                              }).detach();
                          }});
    // Recovery first: the queue is rebuilt (each run once) and unfinished jobs resume before any request
    // can add to them. Read-only, no run is started or followed (their ends cannot be recorded) and no job
    // resumes; they are picked up after the restart.
    if (readOnly.empty()) {
        scheduler.start();
        service.resumeJobs();
        sweeps.start(
            {[&service](const Sweeps::SweepRecord& s, const Json& values, std::int64_t draw, int number) {
                 return service.submitTrial(s.spec, s.id, values, draw, number);
             },
             [&scheduler](std::int64_t run, const std::string& by) { scheduler.cancel(run, by); },
             [&hub](std::int64_t) { hub.notify(Api::Service::kWorkspaceChannel); },
             [&hub](std::int64_t sweep) { hub.notify(Api::Service::sweepChannel(sweep)); }});
    }
    Api::HttpServer http(service, options.host, port, {options.tlsCertificate, options.tlsKey});
    try {
        http.open();
    } catch (const std::exception& e) {
        std::cerr << "kilnd: cannot listen on " << url << ": " << e.what() << "\n";
        sweeps.stop();
        scheduler.stop();
        return 2;
    }
    try {
        Workspace::writeServerInfo(ws, {url, port, token, static_cast<long>(::getpid()), config.caFile, {}});
    } catch (const std::exception& e) {
        std::cerr << "kilnd: cannot write " << (ws / "server.json") << ", so no client could find kilnd"
                  << (readOnly.empty() ? "" : " (the disk is full: free some space)") << ": " << e.what()
                  << std::endl;
        http.close();
        sweeps.stop();
        scheduler.stop();
        return 2;
    }
    std::cerr << "kilnd " << KILN_VERSION << " serving " << ws << " on " << url
              << (readOnly.empty() ? "" : " (read-only: the disk is full)") << std::endl;

    // A kilnd started by a test harness dies with it (KILN_DIE_WITH_PID, set by tests/TestSupport only): a
    // test that crashes or is killed would otherwise leave kilnd and its runs holding the test runner's
    // pipes until its timeout. The runs are canceled first, then kilnd stops as on SIGTERM.
    std::atomic<bool> stopping{false};
    std::thread ownerWatch;
    if (const char* owner = std::getenv("KILN_DIE_WITH_PID"); owner && std::atol(owner) > 0) {
        const auto pid = static_cast<pid_t>(std::atol(owner));
        ownerWatch = std::thread([pid, &stopping, &runs, &scheduler, readOnly] {
            while (!stopping && (::kill(pid, 0) == 0 || errno == EPERM))
                std::this_thread::sleep_for(std::chrono::milliseconds(250));
            if (stopping)
                return;
            std::cerr << "kilnd: process " << pid
                      << ", which started this kilnd, ended: stopping with its runs" << std::endl;
            try {
                if (readOnly.empty()) {
                    const std::vector live{Runs::RunStatus::Queued, Runs::RunStatus::Preparing,
                                           Runs::RunStatus::Running, Runs::RunStatus::Finalizing};
                    for (const auto& run : runs.runsInStates(live))
                        scheduler.cancel(run.id, "the end of the process that started kilnd");
                    for (int i = 0; i < 40 && !runs.runsInStates(live).empty(); ++i)
                        std::this_thread::sleep_for(std::chrono::milliseconds(250));
                }
            } catch (const std::exception& e) {
                std::cerr << "kilnd: " << e.what() << std::endl;
            }
            ::kill(::getpid(), SIGTERM);
        });
    }

    bool restart = false;
    if (readOnly.empty()) {
        int sig = 0;
        sigwait(&stopSignals, &sig);
    } else {
        // Read-only: look for room every two seconds; with room, restart read-write (same port and token,
        // so clients and live runs reconnect by themselves).
        const timespec every{2, 0};
        while (::sigtimedwait(&stopSignals, nullptr, &every) < 0) {
            if (freeBytes(ws) >= kRoomToWrite) {
                std::cerr << "kilnd: there is room on the disk again: restarting read-write" << std::endl;
                restart = true;
                break;
            }
        }
    }
    std::cerr << "kilnd: stopping (runs keep going)" << std::endl;
    stopping = true;
    if (ownerWatch.joinable())
        ownerWatch.join();
    http.close();
    hub.shutdown(); // answers pending long-polls while the service they call back into still exists
    sweeps.stop();
    scheduler.stop();
    // The server file stays: the next kilnd reuses its port and token, so clients and live runs reconnect.
    if (restart) {
        database.reset();
        ::close(lockFd);
        // The same command line again (its port is the one in server.json, which the next kilnd reuses).
        const auto cmdline = Util::tryReadFile("/proc/self/cmdline").value_or("");
        std::vector<std::string> args;
        for (std::size_t start = 0; start < cmdline.size();) {
            const auto end = cmdline.find('\0', start);
            args.push_back(cmdline.substr(start, end - start));
            start = end == std::string::npos ? cmdline.size() : end + 1;
        }
        args.at(0) = fs::read_symlink("/proc/self/exe").string();
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nullptr);
        ::execv(argv[0], argv.data());
        std::cerr << "kilnd: cannot restart: " << std::strerror(errno) << std::endl;
        return 2;
    }
    return 0;
}

} // namespace Kiln::Server
