#include "SlurmBackend.h"

#include "compute/ComputeStore.h"
#include "compute/SlurmClient.h"
#include "compute/SlurmJobs.h"
#include "runs/RunStore.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <iostream>

namespace fs = std::filesystem;

namespace Kiln::Runs {

SlurmBackend::SlurmBackend(RunStore& runs, BackendListener& listener, Compute::ComputeStore& compute,
                           fs::path workspace, fs::path selfExe)
    : m_runs(runs)
    , m_listener(listener)
    , m_compute(compute)
    , m_workspace(std::move(workspace))
    , m_selfExe(std::move(selfExe)) {
    m_thread = std::thread([this] { loop(); });
}

SlurmBackend::~SlurmBackend() {
    stop();
}

void SlurmBackend::stop() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void SlurmBackend::launch(const Launch& launch, const Compute::Target& target) {
    {
        std::lock_guard g(m_mutex);
        m_submissions.push_back({launch, target.name});
        Job job;
        job.target = target.name;
        job.controlDir = launch.controlDir;
        m_jobs[launch.runId] = job;
    }
    m_cv.notify_all();
}

bool SlurmBackend::adopt(const RunRecord& run, const fs::path& controlDir) {
    if (run.externalId.empty())
        return false;
    {
        std::lock_guard g(m_mutex);
        Job job;
        job.target = run.compute;
        job.controlDir = controlDir;
        job.id = run.externalId;
        job.cancel = run.cancelRequested.has_value();
        m_jobs[run.id] = job;
    }
    m_cv.notify_all();
    return true;
}

void SlurmBackend::cancel(std::int64_t runId) {
    {
        std::lock_guard g(m_mutex);
        auto it = m_jobs.find(runId);
        if (it == m_jobs.end())
            return;
        it->second.cancel = true;
    }
    m_cv.notify_all();
}

void SlurmBackend::forget(std::int64_t runId) {
    std::lock_guard g(m_mutex);
    m_jobs.erase(runId);
}

void SlurmBackend::submit(const Submission& s) {
    const auto& l = s.launch;
    try {
        auto target = m_compute.get(s.target);
        if (!target)
            throw std::runtime_error("compute target '" + s.target + "' no longer exists");
        // The same snapshot in the same folder (a file system shared with the nodes), the same
        // environment; Slurm writes the output where the log tailer reads it.
        const auto script = Compute::batchScript(l.workDir, l.argv, m_selfExe, l.controlDir);
        std::map<std::string, std::string> jobEnv;
        for (const auto& kv : l.env)
            if (auto eq = kv.find('='); eq != std::string::npos)
                jobEnv[kv.substr(0, eq)] = kv.substr(eq + 1);
        auto slurm = Compute::slurmClientFor(*target, m_workspace);
        const auto id =
            slurm->submit("kiln-run-" + std::to_string(l.runId), target->config.value("partition", ""),
                          script, jobEnv, l.workDir.string(), (l.controlDir / "output.log").string());
        std::optional<RunRecord> moved;
        try {
            moved = m_runs.transition(
                l.runId, RunStatus::Queued,
                [&](RunRecord& r) {
                    r.externalId = id;
                    r.node.clear();
                },
                RunStatus::Preparing);
        } catch (const std::exception& e) {
            // Submitted, but not recorded (a full disk): nothing would follow the job, so it must not run on.
            try {
                slurm->cancel(id);
            } catch (const std::exception&) {
            }
            forget(l.runId);
            m_listener.launchFailed(l.runId, "Slurm job " + id +
                                                 " was submitted but could not be recorded (" + e.what() +
                                                 "); the job was canceled");
            return;
        }
        {
            std::lock_guard g(m_mutex);
            auto it = m_jobs.find(l.runId);
            if (it != m_jobs.end()) {
                it->second.id = id;
                // A cancel recorded before the job existed is in the record: scancel it now.
                if (!moved || moved->cancelRequested)
                    it->second.cancel = true;
            }
        }
        m_listener.runChanged(l.runId);
    } catch (const std::exception& e) {
        forget(l.runId);
        m_listener.launchFailed(l.runId, std::string("the Slurm cluster refused the job: ") + e.what());
    }
}

void SlurmBackend::poll(std::int64_t runId, Job job) {
    auto target = m_compute.get(job.target);
    if (!target)
        return;
    auto client = Compute::slurmClientFor(*target, m_workspace);
    if (job.cancel && !job.cancelSent) {
        try {
            client->cancel(job.id);
            std::lock_guard g(m_mutex);
            if (auto it = m_jobs.find(runId); it != m_jobs.end())
                it->second.cancelSent = true;
        } catch (const std::exception&) { // slurmrestd unreachable: again next time
        }
    }
    Json record;
    try {
        record = client->job(job.id);
    } catch (const std::exception&) {
        return; // unreachable for now: try again next time
    }
    const auto state = record.value("job_state", std::string());
    auto run = m_runs.run(runId);
    if (!run || isTerminal(run->status))
        return;
    bool changed = false;
    if (state == "PENDING" && run->status != RunStatus::Queued) {
        changed = m_runs.transition(runId, RunStatus::Queued).has_value();
    } else if (state == "RUNNING" && run->status != RunStatus::Running) {
        changed = m_runs
                      .transition(runId, RunStatus::Running,
                                  [&](RunRecord& r) {
                                      r.started = Util::nowSeconds();
                                      r.node = record.value("nodes", std::string());
                                  })
                      .has_value();
    } else if (auto exit = Compute::slurmExitRecord(record)) {
        m_runs.transition(runId, run->status, [&](RunRecord& r) { r.node = record.value("nodes", r.node); });
        Util::writeFileAtomic(job.controlDir / "exit.json", exit->dump());
        {
            std::lock_guard g(m_mutex);
            if (auto it = m_jobs.find(runId); it != m_jobs.end())
                it->second.ended = true;
        }
        m_listener.runEnded(runId);
        return;
    }
    if (changed)
        m_listener.runChanged(runId);
}

void SlurmBackend::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        m_cv.wait_for(lock, std::chrono::milliseconds(100));
        if (m_stop)
            break;
        auto submissions = std::move(m_submissions);
        m_submissions.clear();
        const auto now = std::chrono::steady_clock::now();
        std::vector<std::pair<std::int64_t, Job>> due;
        for (auto& [id, job] : m_jobs) {
            if (job.id.empty() || job.ended)
                continue;
            if (now - job.lastPoll >= std::chrono::milliseconds(500) || (job.cancel && !job.cancelSent)) {
                job.lastPoll = now;
                due.emplace_back(id, job);
            }
        }
        lock.unlock();
        for (const auto& s : submissions)
            submit(s);
        for (const auto& [id, job] : due) {
            try {
                poll(id, job);
            } catch (const std::exception& e) { // never leaves the thread; the next poll tries again
                std::cerr << "kilnd: run " << id << ": following Slurm job " << job.id
                          << " failed: " << e.what() << std::endl;
            }
        }
        lock.lock();
    }
}

} // namespace Kiln::Runs
