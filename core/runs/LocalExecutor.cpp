#include "LocalExecutor.h"

#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "compute/SlurmClient.h"
#include "compute/SlurmJobs.h"
#include "datasets/DatasetRef.h"
#include "datasets/DatasetStore.h"
#include "environments/EnvBuilder.h"
#include "environments/EnvironmentStore.h"
#include "runs/RunStore.h"
#include "runs/Snapshot.h"
#include "runs/Supervisor.h"
#include "store/BlobStore.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;

namespace Kiln::Runs {

namespace {
constexpr int kLastLines = 20;

std::string signalName(int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// Whether `path` (canonical) lies inside `root` (canonical).
bool isWithin(const fs::path& path, const fs::path& root) {
    auto rel = path.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
}

bool processAlive(std::int64_t pid, const fs::path& controlDir) {
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0)
        return false;
    // The pid may have been reused after a reboot: check it is still our supervisor.
    auto cmdline = Util::tryReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    return cmdline && cmdline->find(controlDir.string()) != std::string::npos;
}
} // namespace

LocalExecutor::LocalExecutor(ExecutorConfig config, Stores stores,
                             std::function<void(std::int64_t, bool)> changed)
    : m_config(std::move(config))
    , m_runs(stores.runs)
    , m_tailer(stores.runs)
    , m_blobs(stores.blobs)
    , m_datasets(stores.datasets)
    , m_environments(stores.environments)
    , m_builder(stores.builder)
    , m_compute(stores.compute)
    , m_pool(stores.pool)
    , m_changed(std::move(changed)) {}

LocalExecutor::~LocalExecutor() {
    stop();
}

void LocalExecutor::start() {
    fs::create_directories(m_config.runsDir);
    m_linkDatasets = mountNamespacesAvailable();
    recover();
    m_thread = std::thread([this] { loop(); });
}

void LocalExecutor::stop() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    // Preparing threads see m_stop, abandon their build, and leave the run Preparing: the next kilnd
    // prepares it again.
    std::map<std::int64_t, Preparing> preparing;
    {
        std::lock_guard g(m_mutex);
        for (auto& [id, p] : m_preparing)
            *p.cancel = true;
        preparing.swap(m_preparing);
    }
    for (auto& [id, p] : preparing)
        if (p.thread.joinable())
            p.thread.join();
}

void LocalExecutor::enqueue(std::int64_t runId, const std::string& compute) {
    {
        std::lock_guard g(m_mutex);
        m_queue.emplace_back(runId, compute);
    }
    m_cv.notify_all();
}

std::vector<std::pair<std::int64_t, std::string>> LocalExecutor::queue() {
    std::lock_guard g(m_mutex);
    return {m_queue.begin(), m_queue.end()};
}

void LocalExecutor::cancel(std::int64_t runId, const std::string& by) {
    // The request is durable first: every later stage of the run reads it from the record, so a cancel
    // arriving between two stages cannot be lost.
    auto run = m_runs.requestCancel(runId, by);
    if (!run)
        return;
    {
        std::lock_guard g(m_mutex);
        if (run->status == RunStatus::Canceled)
            std::erase_if(m_queue, [runId](auto& q) { return q.first == runId; });
        else
            m_cancels.insert(runId);
    }
    m_changed(runId, true);
    m_cv.notify_all();
}

void LocalExecutor::fail(std::int64_t runId, const std::string& error) {
    m_pool.release(runId);
    try {
        const auto moved = m_runs.transition(runId, RunStatus::Failed, [&](RunRecord& r) {
            r.ended = Util::nowSeconds();
            r.error = error;
        });
        if (moved)
            m_changed(runId, true);
    } catch (const std::exception& e) {
        // Not recorded (a full disk): the loop tries again until it is.
        std::cerr << "kilnd: cannot record the failure of run " << runId << " yet: " << e.what() << std::endl;
        std::lock_guard g(m_mutex);
        m_unrecorded.emplace_back(runId, error);
    }
}

void LocalExecutor::recover() {
    std::vector<std::pair<std::int64_t, std::string>> queued;
    for (const auto& r : m_runs.runsInStates(
             {RunStatus::Queued, RunStatus::Preparing, RunStatus::Running, RunStatus::Finalizing})) {
        const auto controlDir = m_config.runsDir / std::to_string(r.id);
        if ((r.status == RunStatus::Queued && r.externalId.empty()) || r.status == RunStatus::Preparing) {
            if (r.cancelRequested) { // asked while kilnd was going down
                m_runs.transition(r.id, RunStatus::Canceled, [](RunRecord& x) {
                    x.ended = Util::nowSeconds();
                    x.error = "canceled by " + x.cancelBy + " before it started";
                });
                continue;
            }
            if (r.status == RunStatus::Preparing)
                m_runs.transition(r.id, RunStatus::Queued, {}, RunStatus::Preparing);
            queued.emplace_back(r.id, r.compute);
            continue;
        }
        Active a;
        a.controlDir = controlDir;
        a.workDir = controlDir / "wd";
        a.compute = r.compute;
        a.slurmJob = r.externalId;
        a.supervisorPid = r.supervisorPid.value_or(0);
        a.pgid = r.pgid.value_or(0);
        a.cancelRequested = r.cancelRequested.has_value();
        if (auto target = m_compute.get(r.compute); target && r.node.starts_with(r.compute + "-")) {
            try {
                m_pool.hold(*target, r.id, std::stoi(r.node.substr(r.compute.size() + 1)));
            } catch (const std::exception&) {
            }
        }
        if (fs::exists(controlDir / "exit.json") || processAlive(a.supervisorPid, controlDir) ||
            !a.slurmJob.empty()) {
            m_active.emplace(r.id, std::move(a)); // re-attached: tailing continues from the stored offsets
        } else {
            if (a.pgid > 0)
                ::kill(-static_cast<pid_t>(a.pgid), SIGKILL);
            fail(r.id, "the run's supervisor disappeared while kilnd was down; its ending is unknown");
        }
    }
    // Exactly once per run, whatever was enqueued meanwhile (kilnd opens its port only after this).
    std::lock_guard g(m_mutex);
    for (auto& q : queued)
        if (std::none_of(m_queue.begin(), m_queue.end(), [&](auto& x) { return x.first == q.first; }))
            m_queue.push_back(std::move(q));
}

void LocalExecutor::guarded(std::int64_t runId, const char* what, const std::function<void()>& step) {
    try {
        step();
        m_faults.erase({runId, what});
    } catch (const std::exception& e) {
        // Named and kept going: the same step is tried again on the next tick (a full disk that clears, a
        // slurmrestd that answers again). Logged once per run and step until it succeeds.
        if (m_faults.insert({runId, what}).second)
            std::cerr << "kilnd: run " << runId << ": " << what << " failed (will retry): " << e.what()
                      << std::endl;
    }
}

void LocalExecutor::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        m_cv.wait_for(lock, m_config.tick);
        if (m_stop)
            break;
        lock.unlock();
        try {
            tick();
        } catch (const std::exception& e) { // never leaves the thread: the next tick tries again
            std::cerr << "kilnd: executor: " << e.what() << std::endl;
        }
        lock.lock();
    }
}

void LocalExecutor::tick() {
    std::unique_lock lock(m_mutex);
    // FIFO per compute target: a run starts when its target has a free slot; runs of a full target
    // wait without holding up runs of other targets.
    std::map<std::string, std::optional<Compute::Target>> targets; // one lookup per target per tick
    std::vector<std::pair<std::int64_t, std::string>> gone;        // runs whose target was deleted
    for (auto q = m_queue.begin(); q != m_queue.end();) {
        const auto [id, compute] = *q;
        auto known = targets.find(compute);
        if (known == targets.end())
            known = targets.emplace(compute, m_compute.get(compute)).first;
        const auto& target = known->second;
        if (!target) {
            q = m_queue.erase(q);
            gone.emplace_back(id, compute);
            continue;
        }
        auto slot = m_pool.acquire(*target, id);
        if (!slot) {
            ++q;
            continue;
        }
        q = m_queue.erase(q);
        auto& p = m_preparing[id];
        p.controlDir = m_config.runsDir / std::to_string(id);
        // Dispatch time is taken here, in queue order: the Preparing threads may start in any order.
        p.thread = std::thread([this, id, s = *slot, at = Util::nowSeconds(), cancel = p.cancel] {
            prepare(id, s, at, cancel);
        });
    }
    auto cancels = std::move(m_cancels);
    m_cancels.clear();
    auto unrecorded = std::move(m_unrecorded);
    m_unrecorded.clear();
    std::vector<std::pair<std::int64_t, std::filesystem::path>> preparingDirs;
    for (auto it = m_preparing.begin(); it != m_preparing.end();) {
        if (cancels.count(it->first))
            *it->second.cancel = true;
        if (it->second.done) {
            it->second.thread.join();
            it = m_preparing.erase(it);
        } else {
            preparingDirs.emplace_back(it->first, it->second.controlDir);
            ++it;
        }
    }
    auto started = std::move(m_started);
    m_started.clear();
    lock.unlock();

    for (const auto& [id, compute] : gone)
        fail(id, "compute target '" + compute + "' no longer exists");
    for (const auto& [id, error] : unrecorded)
        fail(id, error);
    for (auto& [id, a] : started) {
        // A cancel recorded while the run was being handed over is in the record: honour it now.
        guarded(id, "reading its cancel request", [&, id = id, &a = a] {
            if (auto r = m_runs.run(id); r && r->cancelRequested)
                a.cancelRequested = true;
        });
        m_active.insert_or_assign(id, std::move(a));
    }
    for (const auto& [id, dir] : preparingDirs)
        guarded(id, "reading its output", [&, id = id, &dir = dir] {
            if (m_tailer.tailFile(id, "output", dir / "output.log", false))
                m_changed(id, false);
        });
    for (auto id : cancels) {
        auto it = m_active.find(id);
        if (it != m_active.end())
            it->second.cancelRequested = true;
    }
    for (auto pid = m_unreaped.begin(); pid != m_unreaped.end();) {
        int st = 0;
        const auto r = ::waitpid(static_cast<pid_t>(*pid), &st, WNOHANG);
        pid = (r != 0) ? m_unreaped.erase(pid) : pid + 1; // reaped, or not ours any more (-1)
    }
    for (auto it = m_active.begin(); it != m_active.end();) {
        auto& [id, a] = *it;
        bool done = false;
        guarded(id, "following it", [&, id = id, &a = a] {
            if (a.ourChild && a.supervisorPid > 0) {
                int st = 0;
                if (::waitpid(static_cast<pid_t>(a.supervisorPid), &st, WNOHANG) > 0)
                    a.ourChild = false;
            }
            if (a.pgid == 0) {
                if (auto child = Util::tryReadFile(a.controlDir / "child.json")) {
                    a.pgid = Json::parse(*child).value("pgid", 0);
                    m_runs.transition(id, RunStatus::Running, [&](RunRecord& r) { r.pgid = a.pgid; });
                }
            }
            if (!a.slurmJob.empty())
                pollSlurm(id, a);
            if (a.cancelRequested)
                escalateCancel(a);
            const bool ended = fs::exists(a.controlDir / "exit.json");
            if (m_tailer.tailRun(id, a.controlDir, a.workDir, ended))
                m_changed(id, false);
            if (ended) {
                settle(id, a);
                done = true;
                return;
            }
            if (a.slurmJob.empty() && !a.ourChild && !processAlive(a.supervisorPid, a.controlDir) &&
                !fs::exists(a.controlDir / "exit.json")) {
                if (a.pgid > 0)
                    ::kill(-static_cast<pid_t>(a.pgid), SIGKILL);
                done = true;
                fail(id, "the run's supervisor process died unexpectedly");
            }
        });
        if (done) {
            // The supervisor exits right after writing exit.json: wait for it here or on a later tick, so
            // that none is left a zombie.
            if (a.ourChild && a.supervisorPid > 0)
                m_unreaped.push_back(a.supervisorPid);
            it = m_active.erase(it);
        } else {
            ++it;
        }
    }
}

void LocalExecutor::pollSlurm(std::int64_t runId, Active& a) {
    const auto now = std::chrono::steady_clock::now();
    if (now - a.lastPoll < std::chrono::milliseconds(500) || fs::exists(a.controlDir / "exit.json"))
        return;
    a.lastPoll = now;
    auto target = m_compute.get(a.compute);
    if (!target)
        return;
    Json job;
    try {
        job = Compute::slurmClientFor(*target, m_config.workspace)->job(a.slurmJob);
    } catch (const std::exception&) {
        return; // slurmrestd unreachable for now: try again next time
    }
    const auto state = job.value("job_state", std::string());
    auto run = m_runs.run(runId);
    if (!run)
        return;
    if (state == "PENDING" && run->status != RunStatus::Queued) {
        m_runs.transition(runId, RunStatus::Queued);
        m_changed(runId, true);
    } else if (state == "RUNNING" && run->status != RunStatus::Running) {
        m_runs.transition(runId, RunStatus::Running, [&](RunRecord& r) {
            r.started = Util::nowSeconds();
            r.node = job.value("nodes", std::string());
        });
        m_changed(runId, true);
    } else if (auto exit = Compute::slurmExitRecord(job)) {
        if (exit->value("slurm_state", std::string()) == "CANCELLED")
            a.cancelRequested = true;
        m_runs.transition(runId, run->status, [&](RunRecord& r) { r.node = job.value("nodes", r.node); });
        Util::writeFileAtomic(a.controlDir / "exit.json", exit->dump());
    }
}

void LocalExecutor::escalateCancel(Active& a) {
    if (!a.slurmJob.empty()) {
        if (!a.slurmCancelSent) {
            if (auto target = m_compute.get(a.compute)) {
                try {
                    Compute::slurmClientFor(*target, m_config.workspace)->cancel(a.slurmJob);
                    a.slurmCancelSent = true;
                } catch (const std::exception&) {
                }
            }
        }
        return;
    }
    if (a.pgid <= 0)
        return; // not started yet; signalled as soon as child.json names its group
    const auto now = std::chrono::steady_clock::now();
    if (!a.termSent) {
        ::kill(-static_cast<pid_t>(a.pgid), SIGTERM);
        a.termSent = now;
    } else if (!a.killSent && now - *a.termSent >= m_config.cancelGrace) {
        ::kill(-static_cast<pid_t>(a.pgid), SIGKILL);
        a.killSent = true;
    }
}

void LocalExecutor::handOver(std::int64_t runId, std::optional<Active> started) {
    {
        std::lock_guard g(m_mutex);
        if (started)
            m_started.emplace_back(runId, std::move(*started));
        m_preparing[runId].done = true;
    }
    m_cv.notify_all();
}

void LocalExecutor::prepare(std::int64_t runId, int slot, double dispatchedAt,
                            std::shared_ptr<std::atomic<bool>> cancel) {
    try {
        prepareRun(runId, slot, dispatchedAt, std::move(cancel));
    } catch (const std::exception& e) {
        // Not even the failure could be recorded (the database is unwritable): the slot goes back and the
        // run stays where it is until the next kilnd requeues it. Never leaves the thread.
        std::cerr << "kilnd: run " << runId << ": preparing could not be recorded: " << e.what() << std::endl;
        m_pool.release(runId);
        handOver(runId, std::nullopt);
    }
}

void LocalExecutor::prepareRun(std::int64_t runId, int slot, double dispatchedAt,
                               std::shared_ptr<std::atomic<bool>> cancel) {
    auto finish = [this, runId](std::optional<Active> started) { handOver(runId, std::move(started)); };
    auto canceled = [this, cancel] { return cancel->load() || m_stop; };
    auto run = m_runs.run(runId);
    if (!run || run->status != RunStatus::Queued) {
        m_pool.release(runId);
        return finish(std::nullopt);
    }
    const auto controlDir = m_config.runsDir / std::to_string(runId);
    const auto workDir = controlDir / "wd";
    // The run token exists from here on; only its hash is stored, the script gets it in its environment.
    const auto token = "r" + std::to_string(runId) + "-" + Util::randomHex(32);
    const auto target = m_compute.get(run->compute);
    // Compare-and-set from Queued: a cancel that got there first wins, and the slot goes back.
    if (!m_runs.transition(
            runId, RunStatus::Preparing,
            [&](RunRecord& r) {
                r.tokenHash = Util::sha256Hex(token);
                r.node = Compute::LocalPool::nodeName(run->compute, slot);
                r.dispatched = dispatchedAt;
            },
            RunStatus::Queued)) {
        m_pool.release(runId);
        return finish(std::nullopt);
    }
    m_changed(runId, true);
    try {
        Util::removeTree(controlDir);
        m_runs.resetLogOffsets(runId); // output.log starts again
        fs::create_directories(workDir / "outputs");
        fs::create_directories(workDir / "logs");
        auto manifest = m_runs.snapshot(run->snapshot);
        if (!manifest)
            throw std::runtime_error("snapshot " + run->snapshot + " is missing from the workspace");
        auto snapshot = Snapshot::fromManifest(Json::parse(*manifest));
        snapshot.materialize(m_blobs, workDir);
        if (!snapshot.contains(run->script))
            throw std::runtime_error("script " + run->script + " is not in the source folder");

        std::vector<std::string> argv;
        if (run->script.ends_with(".py"))
            argv = {m_config.python, "-u", run->script};
        else if (run->script.ends_with(".sh"))
            argv = {"/bin/sh", run->script};
        else
            argv = {"./" + run->script};
        auto args = run->args;
        const auto readOnly = resolveDatasets(runId, args, controlDir);
        argv.insert(argv.end(), args.begin(), args.end());

        // The environment: built (or found in the cache) now, its log streaming as the run's output.
        std::map<std::string, std::string> variables;
        std::string venvBin;
        if (auto environment = m_environments.ofRun(runId)) {
            std::ofstream log(controlDir / "output.log", std::ios::app);
            log << "kiln: environment " << environment->name << ":" << environment->version << "\n"
                << std::flush;
            auto built = m_builder.ensure(
                environment->spec, [&log](const std::string& line) { log << line << "\n"
                                                                         << std::flush; },
                canceled);
            if (built.reused)
                log << "kiln: reusing the cached build " << built.prefix.filename().string().substr(0, 12)
                    << "\n";
            if (run->script.ends_with(".py"))
                argv[0] = built.python.string();
            variables = environment->spec.variables;
            venvBin = (built.prefix / "bin").string();
            variables["VIRTUAL_ENV"] = built.prefix.string();
        }
        if (canceled() || m_runs.run(runId)->cancelRequested)
            throw UserError(499, "canceled");

        std::vector<std::string> env;
        std::string pythonPath = m_config.pythonModule.string();
        for (char** e = environ; *e; ++e) {
            std::string_view kv(*e);
            if (kv.starts_with("KILN_"))
                continue;
            if (kv.starts_with("PYTHONPATH=")) {
                pythonPath += ":" + std::string(kv.substr(11));
                continue;
            }
            if (kv.starts_with("PATH=") && !venvBin.empty()) {
                env.push_back("PATH=" + venvBin + ":" + std::string(kv.substr(5)));
                continue;
            }
            if (auto eq = kv.find('=');
                eq != std::string_view::npos && variables.count(std::string(kv.substr(0, eq))))
                continue;
            env.emplace_back(kv);
        }
        env.push_back("PYTHONPATH=" + pythonPath);
        env.push_back("PYTHONUNBUFFERED=1");
        env.push_back("PYTHONDONTWRITEBYTECODE=1");
        for (const auto& [k, v] : variables)
            env.push_back(k + "=" + v);
        env.push_back("KILN_URL=" + m_config.serverUrl);
        if (!m_config.caFile.empty())
            env.push_back("KILN_CA_FILE=" + m_config.caFile);
        env.push_back("KILN_RUN_ID=" + std::to_string(runId));
        env.push_back("KILN_RUN_TOKEN=" + token);
        Json spec = {{"argv", argv},
                     {"env", env},
                     {"cwd", workDir.string()},
                     {"readonly", readOnly},
                     {"readonly_linked", m_linkDatasets && !readOnly.empty()}};
        if (target && target->cpusPerRun() > 0) {
            // Pin the run to its slot's share of the CPUs.
            const int ncpu = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
            Json cpus = Json::array();
            for (int c = 0; c < target->cpusPerRun(); ++c)
                cpus.push_back((slot * target->cpusPerRun() + c) % ncpu);
            spec["cpus"] = cpus;
        }
        if (target && target->memoryMbPerRun() > 0)
            spec["memory_bytes"] = target->memoryMbPerRun() * 1024 * 1024;
        Util::writeFileAtomic(controlDir / "spec.json", spec.dump(), 0600);

        if (target && target->type == "slurm") {
            // A batch job on the cluster, running the same snapshot in the same folder (a file system shared
            // with the nodes), with the same environment; Slurm writes its output where the log tailer reads.
            const auto script = Compute::batchScript(workDir, argv);
            std::map<std::string, std::string> jobEnv;
            for (const auto& kv : env)
                if (auto eq = kv.find('='); eq != std::string::npos)
                    jobEnv[kv.substr(0, eq)] = kv.substr(eq + 1);
            const auto job =
                Compute::slurmClientFor(*target, m_config.workspace)
                    ->submit("kiln-run-" + std::to_string(runId), target->config.value("partition", ""),
                             script, jobEnv, workDir.string(), (controlDir / "output.log").string());
            Active a;
            a.controlDir = controlDir;
            a.workDir = workDir;
            a.compute = run->compute;
            a.slurmJob = job;
            const auto moved = m_runs.transition(
                runId, RunStatus::Queued,
                [&](RunRecord& r) {
                    r.externalId = job;
                    r.node.clear();
                },
                RunStatus::Preparing);
            // A cancel recorded meanwhile is in the record: the loop scancels the job.
            a.cancelRequested = cancel->load() || !moved || moved->cancelRequested.has_value();
            m_changed(runId, true);
            return finish(std::move(a));
        }
        const std::string exe = m_config.selfExe.string();
        const std::string dir = controlDir.string();
        const std::string supLog = (controlDir / "supervisor.log").string();
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
        Active a;
        a.controlDir = controlDir;
        a.workDir = workDir;
        a.supervisorPid = pid;
        a.ourChild = true;
        const auto moved = m_runs.transition(
            runId, RunStatus::Running,
            [&](RunRecord& r) {
                r.started = Util::nowSeconds();
                r.supervisorPid = pid;
            },
            RunStatus::Preparing);
        // The cancel flag is read in the same transaction that makes the run Running: a cancel recorded
        // before it is seen here, one recorded after it finds the run Running.
        a.cancelRequested = cancel->load() || !moved || moved->cancelRequested.has_value();
        m_changed(runId, true);
        finish(std::move(a));
    } catch (const std::exception& e) {
        if (m_stop) // kilnd is stopping: leave the run Preparing; the next kilnd prepares it again
            return finish(std::nullopt);
        // Whatever preparing wrote (pip's errors) belongs to the run's output.
        m_tailer.tailFile(runId, "output", controlDir / "output.log", true);
        const auto now = m_runs.run(runId);
        if (cancel->load() || (now && now->cancelRequested)) {
            m_pool.release(runId);
            m_runs.transition(runId, RunStatus::Canceled, [](RunRecord& r) {
                r.ended = Util::nowSeconds();
                if (!r.cancelRequested)
                    r.cancelRequested = r.ended;
                r.error = "canceled by " + (r.cancelBy.empty() ? std::string("the user") : r.cancelBy) +
                          " while preparing";
            });
            m_changed(runId, true);
        } else {
            fail(runId, std::string("preparing failed: ") + e.what());
        }
        finish(std::nullopt);
    }
}

std::vector<std::string> LocalExecutor::resolveDatasets(std::int64_t runId, std::vector<std::string>& args,
                                                        const fs::path& controlDir) {
    std::vector<std::string> readOnly;
    std::string notes;
    for (auto& arg : args) {
        auto refs = Datasets::findDatasetRefs(arg);
        for (auto it = refs.rbegin(); it != refs.rend(); ++it) {
            auto version = m_datasets.version(it->name, it->version);
            if (!version)
                throw std::runtime_error("dataset " + it->name +
                                         (it->version ? " version " + std::to_string(it->version) : "") +
                                         " does not exist");
            const bool mount = it->mode == "mount";
            const auto dir =
                controlDir / "datasets" /
                (version->name + "_v" + std::to_string(version->version) + (mount ? "" : "_copy"));
            if (!fs::exists(dir)) {
                Datasets::materialize(m_datasets.files(version->id), m_blobs, dir, mount, m_linkDatasets);
                m_datasets.recordUse(runId, version->id, it->mode, dir.string());
                if (mount)
                    readOnly.push_back(dir.string());
                notes += "kiln: dataset " + version->name + ":" + std::to_string(version->version) + " (" +
                         std::to_string(version->fileCount) + " files) " +
                         (mount ? "mounted read-only" : "copied") + " at " + dir.string() + "\n";
            }
            arg.replace(it->pos, it->length, dir.string());
        }
    }
    if (!notes.empty()) {
        std::ofstream out(controlDir / "output.log", std::ios::app);
        out << notes;
    }
    return readOnly;
}

void LocalExecutor::settle(std::int64_t runId, Active& a) {
    Json exit;
    try {
        exit = Json::parse(Util::readFile(a.controlDir / "exit.json"));
    } catch (const std::exception& e) {
        exit = {{"error", std::string("unreadable exit record: ") + e.what()}};
    }
    if (!m_runs.transition(runId, RunStatus::Finalizing)) {
        m_pool.release(runId); // already ended (the state machine refused the move, and logged it)
        return;
    }
    m_changed(runId, true);

    std::vector<RunFile> files;
    std::string collectError;
    std::error_code ec;
    auto collect = [&](const fs::path& root, const std::string& prefix) {
        if (!fs::is_directory(root, ec))
            return;
        const auto inside = fs::canonical(root, ec);
        for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (ec)
                continue;
            // A link is kept (as the file it names) only when it names a regular file inside the same
            // folder: never followed out of the run's folder.
            auto source = it->path();
            const auto status = it->symlink_status(ec);
            if (fs::is_symlink(status)) {
                auto target = fs::canonical(source, ec);
                if (ec || !fs::is_regular_file(target, ec) || !isWithin(target, inside))
                    continue;
                source = target;
            } else if (!fs::is_regular_file(status)) {
                continue;
            }
            auto rel = Util::safeRelativePath(prefix + it->path().lexically_relative(root).generic_string());
            if (!rel)
                continue;
            try {
                files.push_back(
                    {*rel, m_blobs.putFile(source), static_cast<std::int64_t>(fs::file_size(source))});
            } catch (const std::exception& e) {
                collectError = e.what();
            }
        }
    };
    collect(a.workDir / "outputs", "outputs/");
    collect(a.workDir / "logs", "logs/");
    if (fs::exists(a.controlDir / "output.log"))
        files.push_back({"output.log", m_blobs.putFile(a.controlDir / "output.log"),
                         static_cast<std::int64_t>(fs::file_size(a.controlDir / "output.log", ec))});
    m_runs.addFiles(runId, files);

    const auto lastLines = m_runs.lastLines(runId, kLastLines);
    auto withLastLines = [&](std::string msg) {
        if (!lastLines.empty()) {
            msg += "\nLast lines of output:";
            for (const auto& l : lastLines)
                msg += "\n" + l;
        }
        return msg;
    };
    const bool canceled = a.cancelRequested;
    m_runs.transition(runId, canceled ? RunStatus::Canceled : RunStatus::Failed, [&](RunRecord& r) {
        r.ended = exit.value("ended", Util::nowSeconds());
        if (exit.contains("exit_code") && exit["exit_code"].is_number())
            r.exitCode = exit["exit_code"].get<std::int64_t>();
        if (exit.contains("signal") && exit["signal"].is_number())
            r.signal = exit["signal"].get<std::int64_t>();
        if (canceled) {
            r.error = "canceled by " +
                      (r.cancelBy.empty() ? std::string("Slurm (scancel or a time limit)") : r.cancelBy);
        } else if (exit.contains("error")) {
            r.error = withLastLines(exit["error"].get<std::string>());
        } else if (r.signal) {
            r.error = withLastLines("killed by signal " + signalName(static_cast<int>(*r.signal)));
        } else if (r.exitCode.value_or(-1) != 0) {
            r.error = withLastLines("exited with status " + std::to_string(r.exitCode.value_or(-1)));
        } else if (!collectError.empty()) {
            r.error = "could not keep the run's outputs: " + collectError;
        } else {
            r.status = RunStatus::Completed;
        }
    });
    Util::removeTree(a.workDir);
    Util::removeTree(a.controlDir / "datasets");
    m_pool.release(runId);
    m_changed(runId, true);
}

} // namespace Kiln::Runs
