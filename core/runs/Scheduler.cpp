#include "Scheduler.h"

#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "datasets/DatasetRef.h"
#include "datasets/DatasetStore.h"
#include "environments/EnvBuilder.h"
#include "environments/EnvironmentStore.h"
#include "runs/LocalBackend.h"
#include "runs/RunStore.h"
#include "runs/SlurmBackend.h"
#include "runs/Snapshot.h"
#include "runs/Supervisor.h"
#include "store/BlobStore.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
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
} // namespace

Scheduler::Scheduler(SchedulerConfig config, Stores stores, std::function<void(std::int64_t, bool)> changed)
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

Scheduler::~Scheduler() {
    stop();
}

Backend& Scheduler::backendFor(const Compute::Target& target) {
    return target.type == "slurm" ? *m_slurm : *m_local;
}

void Scheduler::start() {
    fs::create_directories(m_config.runsDir);
    m_linkDatasets = mountNamespacesAvailable();
    BackendListener& listener = *this;
    m_local = std::make_unique<LocalBackend>(m_runs, listener, m_config.selfExe, m_config.cancelGrace);
    m_slurm = std::make_unique<SlurmBackend>(m_runs, listener, m_compute, m_config.workspace);
    recover();
    m_dispatchThread = std::thread([this] { dispatchLoop(); });
    m_followThread = std::thread([this] { followLoop(); });
}

void Scheduler::stop() {
    {
        std::lock_guard g(m_mutex);
        if (m_stop && !m_dispatchThread.joinable())
            return;
        m_stop = true;
    }
    m_cv.notify_all();
    m_followCv.notify_all();
    if (m_dispatchThread.joinable())
        m_dispatchThread.join();
    if (m_followThread.joinable())
        m_followThread.join();
    // Preparing threads see m_stop, abandon their build, and leave the run Preparing: the next kilnd
    // prepares it again. Settling threads finish what they are doing (or give up retrying).
    std::map<std::int64_t, Preparing> preparing;
    std::map<std::int64_t, std::thread> settling;
    {
        std::lock_guard g(m_mutex);
        for (auto& [id, p] : m_preparing)
            *p.cancel = true;
        preparing.swap(m_preparing);
        settling.swap(m_settling);
    }
    for (auto& [id, p] : preparing)
        if (p.thread.joinable())
            p.thread.join();
    for (auto& [id, t] : settling)
        if (t.joinable())
            t.join();
    if (m_local)
        m_local->stop();
    if (m_slurm)
        m_slurm->stop();
}

void Scheduler::enqueue(std::int64_t runId, const std::string& compute) {
    {
        std::lock_guard g(m_mutex);
        m_queue.emplace_back(runId, compute);
        m_dirty = true;
    }
    m_cv.notify_all();
}

std::vector<std::pair<std::int64_t, std::string>> Scheduler::queue() {
    std::lock_guard g(m_mutex);
    return {m_queue.begin(), m_queue.end()};
}

void Scheduler::cancel(std::int64_t runId, const std::string& by) {
    // The request is durable first: every later stage of the run reads it from the record, so a cancel
    // arriving between two stages cannot be lost.
    auto run = m_runs.requestCancel(runId, by);
    if (!run)
        return;
    Backend* backend = nullptr;
    {
        std::lock_guard g(m_mutex);
        if (run->status == RunStatus::Canceled)
            std::erase_if(m_queue, [runId](auto& q) { return q.first == runId; });
        if (auto p = m_preparing.find(runId); p != m_preparing.end())
            *p->second.cancel = true;
        if (auto l = m_live.find(runId); l != m_live.end())
            backend = l->second.backend;
    }
    if (backend)
        backend->cancel(runId);
    m_changed(runId, true);
}

void Scheduler::runEnded(std::int64_t runId) {
    {
        std::lock_guard g(m_mutex);
        auto it = m_live.find(runId);
        if (it == m_live.end() || it->second.ended || m_stop)
            return;
        it->second.ended = true;
        m_settling[runId] = std::thread([this, runId] { settle(runId); });
    }
    m_cv.notify_all();
}

void Scheduler::launchFailed(std::int64_t runId, const std::string& error) {
    {
        std::lock_guard g(m_mutex);
        m_live.erase(runId);
        m_dirty = true;
    }
    fail(runId, error);
    m_cv.notify_all();
}

void Scheduler::runChanged(std::int64_t runId) {
    m_changed(runId, true);
}

void Scheduler::fail(std::int64_t runId, const std::string& error) {
    m_pool.release(runId);
    try {
        if (m_runs.transition(runId, RunStatus::Failed, [&](RunRecord& r) {
                r.ended = Util::nowSeconds();
                r.error = error;
            }))
            m_changed(runId, true);
    } catch (const std::exception& e) {
        // Not recorded (a full disk): the follower tries again until it is. Nobody waits for it meanwhile.
        logOnce(runId, "recording its failure", e);
        std::lock_guard g(m_mutex);
        m_unrecorded.emplace_back(runId, error);
    }
    {
        std::lock_guard g(m_mutex);
        m_dirty = true;
    }
    m_cv.notify_all();
}

void Scheduler::logOnce(std::int64_t runId, const char* what, const std::exception& e) {
    std::lock_guard g(m_mutex);
    if (m_faults.insert({runId, what}).second)
        std::cerr << "kilnd: run " << runId << ": " << what << " failed (will retry): " << e.what()
                  << std::endl;
}

void Scheduler::recover() {
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
        auto target = m_compute.get(r.compute);
        if (target && r.node.starts_with(r.compute + "-")) {
            try {
                m_pool.hold(*target, r.id, std::stoi(r.node.substr(r.compute.size() + 1)));
            } catch (const std::exception&) {
            }
        }
        Backend& backend = (target && target->type == "slurm") || !r.externalId.empty() ? *m_slurm : *m_local;
        {
            std::lock_guard g(m_mutex);
            m_live[r.id] = Live{&backend, controlDir, controlDir / "wd", false};
        }
        // Re-attached: tailing continues from the stored offsets.
        if (!backend.adopt(r, controlDir)) {
            {
                std::lock_guard g(m_mutex);
                m_live.erase(r.id);
            }
            fail(r.id, "the run's supervisor disappeared while kilnd was down; its ending is unknown");
        }
    }
    // Exactly once per run, whatever was enqueued meanwhile (kilnd opens its port only after this).
    std::lock_guard g(m_mutex);
    for (auto& q : queued)
        if (std::none_of(m_queue.begin(), m_queue.end(), [&](auto& x) { return x.first == q.first; }))
            m_queue.push_back(std::move(q));
    m_dirty = true;
}

void Scheduler::dispatchLoop() {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        // Woken by an event (a submission, a cancel, a launch that failed, a run settled); the timeout
        // only catches a node freed by something that did not say so.
        m_cv.wait_for(lock, std::chrono::seconds(1), [this] { return m_dirty || m_stop.load(); });
        if (m_stop)
            break;
        m_dirty = false;
        try {
            dispatch(lock);
        } catch (const std::exception& e) { // never leaves the thread: the next event tries again
            std::cerr << "kilnd: scheduler: " << e.what() << std::endl;
        }
        // Threads that finished are joined here, not where they run.
        for (auto it = m_preparing.begin(); it != m_preparing.end();) {
            if (it->second.done) {
                it->second.thread.join();
                it = m_preparing.erase(it);
            } else {
                ++it;
            }
        }
        for (auto it = m_settling.begin(); it != m_settling.end();) {
            if (!m_live.count(it->first)) {
                it->second.join();
                it = m_settling.erase(it);
            } else {
                ++it;
            }
        }
    }
}

void Scheduler::dispatch(std::unique_lock<std::mutex>& lock) {
    // FIFO per compute target: a run starts when its target has a free node; runs of a full target wait
    // without holding up runs of other targets.
    std::map<std::string, std::optional<Compute::Target>> targets; // one lookup per target per pass
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
    if (!gone.empty()) {
        lock.unlock();
        for (const auto& [id, compute] : gone)
            fail(id, "compute target '" + compute + "' no longer exists");
        lock.lock();
    }
}

void Scheduler::followLoop() {
    // Reads what live runs wrote (output.log, logs/) into the store, on its own thread so that a run
    // printing megabytes never delays a dispatch. Also the safety net for an end nobody reported.
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        m_followCv.wait_for(lock, m_config.follow);
        if (m_stop)
            break;
        std::vector<std::pair<std::int64_t, fs::path>> preparing;
        for (const auto& [id, p] : m_preparing)
            if (!p.done)
                preparing.emplace_back(id, p.controlDir);
        std::vector<std::pair<std::int64_t, Live>> live;
        for (const auto& [id, l] : m_live)
            if (!l.ended)
                live.emplace_back(id, l);
        auto unrecorded = std::move(m_unrecorded);
        m_unrecorded.clear();
        lock.unlock();
        for (const auto& [id, error] : unrecorded)
            fail(id, error);
        std::unique_lock tail(m_tailMutex);
        for (const auto& [id, dir] : preparing) {
            try {
                if (m_tailer.tailFile(id, "output", dir / "output.log", false))
                    m_changed(id, false);
            } catch (const std::exception& e) {
                logOnce(id, "reading its output", e);
            }
        }
        for (const auto& [id, l] : live) {
            try {
                if (m_tailer.tailRun(id, l.controlDir, l.workDir, false))
                    m_changed(id, false);
            } catch (const std::exception& e) {
                logOnce(id, "reading its output", e);
            }
        }
        tail.unlock();
        for (const auto& [id, l] : live)
            if (fs::exists(l.controlDir / "exit.json"))
                runEnded(id); // once: a second report is ignored
        lock.lock();
    }
}

void Scheduler::prepare(std::int64_t runId, int slot, double dispatchedAt,
                        std::shared_ptr<std::atomic<bool>> cancel) {
    try {
        prepareRun(runId, slot, dispatchedAt, std::move(cancel));
    } catch (const std::exception& e) {
        // Not even the failure could be recorded (the database is unwritable): the node goes back and the
        // run stays where it is until the next kilnd requeues it. Never leaves the thread.
        std::cerr << "kilnd: run " << runId << ": preparing could not be recorded: " << e.what() << std::endl;
        m_pool.release(runId);
        std::lock_guard g(m_mutex);
        m_preparing[runId].done = true;
        m_dirty = true;
        m_cv.notify_all();
    }
}

void Scheduler::prepareRun(std::int64_t runId, int slot, double dispatchedAt,
                           std::shared_ptr<std::atomic<bool>> cancel) {
    auto finish = [this, runId](bool launched) {
        std::lock_guard g(m_mutex);
        m_preparing[runId].done = true;
        m_dirty = !launched || m_dirty; // a node may be free again
        m_cv.notify_all();
    };
    auto canceled = [this, cancel] { return cancel->load() || m_stop; };
    auto run = m_runs.run(runId);
    if (!run || run->status != RunStatus::Queued) {
        m_pool.release(runId);
        return finish(false);
    }
    const auto controlDir = m_config.runsDir / std::to_string(runId);
    const auto workDir = controlDir / "wd";
    // The run token exists from here on; only its hash is stored, the script gets it in its environment.
    const auto token = "r" + std::to_string(runId) + "-" + Util::randomHex(32);
    const auto target = m_compute.get(run->compute);
    // Compare-and-set from Queued: a cancel that got there first wins, and the node goes back.
    if (!m_runs.transition(
            runId, RunStatus::Preparing,
            [&](RunRecord& r) {
                r.tokenHash = Util::sha256Hex(token);
                r.node = Compute::LocalPool::nodeName(run->compute, slot);
                r.dispatched = dispatchedAt;
            },
            RunStatus::Queued)) {
        m_pool.release(runId);
        return finish(false);
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
        if (!target)
            throw std::runtime_error("compute target '" + run->compute + "' no longer exists");
        if (target && target->memoryMbPerRun() > 0)
            spec["memory_bytes"] = target->memoryMbPerRun() * 1024 * 1024;
        Util::writeFileAtomic(controlDir / "spec.json", spec.dump(), 0600);

        // Live from here: a cancel that arrives now reaches the backend (or, before the backend has the
        // run, is read back from the record in the transaction that marks it launched).
        auto& backend = backendFor(*target);
        {
            std::lock_guard g(m_mutex);
            m_live[runId] = Live{&backend, controlDir, workDir, false};
        }
        try {
            backend.launch({runId, controlDir, workDir, argv, env}, *target);
        } catch (...) {
            std::lock_guard g(m_mutex);
            m_live.erase(runId);
            throw;
        }
        if (cancel->load())
            backend.cancel(runId);
        m_changed(runId, true);
        finish(true);
    } catch (const std::exception& e) {
        if (m_stop) // kilnd is stopping: leave the run Preparing; the next kilnd prepares it again
            return finish(false);
        // Whatever preparing wrote (pip's errors) belongs to the run's output.
        {
            std::lock_guard tail(m_tailMutex);
            m_tailer.tailFile(runId, "output", controlDir / "output.log", true);
        }
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
        finish(false);
    }
}

std::vector<std::string> Scheduler::resolveDatasets(std::int64_t runId, std::vector<std::string>& args,
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

void Scheduler::settle(std::int64_t runId) {
    Live live;
    {
        std::lock_guard g(m_mutex);
        live = m_live.at(runId);
    }
    for (int attempt = 0;; ++attempt) {
        try {
            settleOnce(runId, live);
            break;
        } catch (const std::exception& e) {
            // A full disk: the run keeps its files in its folder; tried again until it can be recorded.
            logOnce(runId, "settling it", e);
            if (m_stop)
                return; // the next kilnd finds exit.json and settles it
            std::this_thread::sleep_for(
                std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 5))));
        }
    }
    live.backend->forget(runId);
    {
        std::lock_guard g(m_mutex);
        m_live.erase(runId);
        m_dirty = true; // its node is free
    }
    m_cv.notify_all();
}

void Scheduler::settleOnce(std::int64_t runId, const Live& a) {
    {
        std::lock_guard tail(m_tailMutex);
        if (m_tailer.tailRun(runId, a.controlDir, a.workDir, true))
            m_changed(runId, false);
    }
    Json exit;
    if (auto text = Util::tryReadFile(a.controlDir / "exit.json")) {
        try {
            exit = Json::parse(*text);
        } catch (const std::exception& e) {
            exit = {{"error", std::string("unreadable exit record: ") + e.what()}};
        }
    } else {
        if (auto pgid = m_runs.run(runId).value().pgid; pgid && *pgid > 0)
            ::kill(-static_cast<pid_t>(*pgid), SIGKILL);
        exit = {{"error", "the run's supervisor process died unexpectedly"}};
    }
    const auto current = m_runs.run(runId);
    if (!current || isTerminal(current->status) ||
        (current->status != RunStatus::Finalizing && !m_runs.transition(runId, RunStatus::Finalizing))) {
        m_pool.release(runId); // already ended (or the state machine refused the move, and logged it)
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
    // Canceled: someone asked (recorded on the run), or the cluster canceled the job itself.
    const bool canceled = m_runs.run(runId)->cancelRequested.has_value() ||
                          exit.value("slurm_state", std::string()) == "CANCELLED";
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
