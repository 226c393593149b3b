// Scheduler, part 2: preparing a run on its own thread (snapshot, datasets, environment, then the
// backend's launch). Part 1 (dispatching, following, recovery) is Scheduler.cpp; part 3 is Settling.cpp.
#include "Scheduler.h"

#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "datasets/DatasetRef.h"
#include "datasets/DatasetStore.h"
#include "environments/EnvBuilder.h"
#include "environments/EnvironmentStore.h"
#include "runs/RunStore.h"
#include "runs/Snapshot.h"
#include "store/BlobStore.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <fstream>
#include <iostream>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace Kiln::Runs {

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
                     {"readonly_linked", m_linkDatasets && !readOnly.empty()},
                     {"system_interval", run->systemInterval}};
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

} // namespace Kiln::Runs
