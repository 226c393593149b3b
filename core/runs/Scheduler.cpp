#include "Scheduler.h"

// Part 1: dispatching, following, cancels and recovery. Preparing.cpp prepares and launches a run;
// Settling.cpp settles an ended one.
#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "runs/LocalBackend.h"
#include "runs/RunStore.h"
#include "runs/SlurmBackend.h"
#include "runs/Supervisor.h"
#include "util/Fs.h"

#include <algorithm>
#include <iostream>

namespace fs = std::filesystem;

namespace Kiln::Runs {

Scheduler::Scheduler(SchedulerConfig config, Stores stores, std::function<void(std::int64_t, bool)> changed)
    : m_config(std::move(config))
    , m_runs(stores.runs)
    , m_tailer(stores.runs, stores.metrics)
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
    m_slurm =
        std::make_unique<SlurmBackend>(m_runs, listener, m_compute, m_config.workspace, m_config.selfExe);
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
    for (auto r : m_runs.runsInStates(
             {RunStatus::Queued, RunStatus::Preparing, RunStatus::Running, RunStatus::Finalizing})) {
        const auto controlDir = m_config.runsDir / std::to_string(r.id);
        const auto where = m_compute.get(r.compute);
        if (r.status == RunStatus::Preparing && r.externalId.empty() && !(where && where->type == "slurm")) {
            // Launched, but kilnd went down before it recorded so: the supervisor said it started (its
            // first act, before the script), so the run is followed as Running, not prepared again.
            if (const auto said = Util::tryReadFile(controlDir / "supervisor.json")) {
                try {
                    const auto pid = Json::parse(*said).at("pid").get<std::int64_t>();
                    if (auto moved = m_runs.transition(
                            r.id, RunStatus::Running,
                            [&](RunRecord& x) {
                                x.supervisorPid = pid;
                                if (!x.started)
                                    x.started = Util::nowSeconds();
                            },
                            RunStatus::Preparing))
                        r = *moved;
                } catch (const std::exception& e) {
                    std::cerr << "kilnd: run " << r.id << ": unreadable supervisor.json: " << e.what()
                              << std::endl;
                }
            }
        }
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
        try {
            p.thread = std::thread([this, id, s = *slot, at = Util::nowSeconds(), cancel = p.cancel] {
                prepare(id, s, at, cancel);
            });
        } catch (const std::system_error& e) {
            // No thread to prepare it on (kilnd is out of threads): the run goes back to its place in the
            // queue and its node is freed; the next pass (within a second) tries again.
            std::cerr << "kilnd: run " << id << ": cannot start preparing it yet: " << e.what() << std::endl;
            m_preparing.erase(id);
            m_pool.release(id);
            m_queue.insert(q, {id, compute});
            break;
        }
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

} // namespace Kiln::Runs
