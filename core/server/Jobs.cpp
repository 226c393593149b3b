#include "Jobs.h"

#include "server/ChangeHub.h"
#include "util/Error.h"
#include "util/Fs.h"

namespace Kiln::Server {

void Jobs::Job::setProgress(Json progress) {
    bool notify = false;
    {
        std::lock_guard g(m_mutex);
        m_progress = std::move(progress);
        const double now = Util::nowSeconds();
        if (now - m_lastNotify >= 0.1) { // at most ten wake-ups a second
            m_lastNotify = now;
            ++m_version;
            notify = true;
        }
    }
    if (notify)
        m_jobs->notify(*this);
}

Json Jobs::Job::snapshot() const {
    std::lock_guard g(m_mutex);
    Json j = {
        {"id", m_id}, {"kind", m_kind}, {"state", m_state}, {"progress", m_progress}, {"version", m_version}};
    j["result"] = m_result;
    j["error"] = m_error;
    if (m_errorStatus)
        j["error_status"] = m_errorStatus;
    return j;
}

Jobs::~Jobs() {
    std::map<std::int64_t, std::thread> threads;
    {
        std::lock_guard g(m_mutex);
        m_stopping = true;
        for (auto& [id, job] : m_jobs)
            job->m_cancel = true;
        threads.swap(m_threads);
    }
    for (auto& [id, t] : threads)
        if (t.joinable())
            t.join();
}

void Jobs::notify(Job& job) {
    m_hub.notify(channel(job.m_id));
}

std::int64_t Jobs::start(const std::string& kind, Work work) {
    auto job = std::make_shared<Job>();
    job->m_kind = kind;
    job->m_jobs = this;
    std::lock_guard g(m_mutex);
    if (m_stopping)
        throw UserError(503, "the server is stopping");
    job->m_id = m_next++;
    m_jobs[job->m_id] = job;
    m_threads[job->m_id] = std::thread([this, job, work = std::move(work)]() {
        Json result;
        std::string error, state = "succeeded";
        int status = 0;
        try {
            result = work(*job);
            if (job->canceled())
                state = "canceled";
        } catch (const UserError& e) {
            state = job->canceled() ? "canceled" : "failed";
            error = e.what();
            status = e.status();
        } catch (const std::exception& e) {
            state = job->canceled() ? "canceled" : "failed";
            error = e.what();
            status = 500;
        }
        {
            std::lock_guard jg(job->m_mutex);
            job->m_state = state;
            job->m_result = std::move(result);
            job->m_error = state == "canceled" ? "canceled" : error;
            job->m_errorStatus = status;
            ++job->m_version;
        }
        notify(*job);
    });
    // Finished threads are joined lazily: keep the map small.
    for (auto it = m_threads.begin(); it != m_threads.end();) {
        auto found = m_jobs.find(it->first);
        if (it->first != job->m_id && found != m_jobs.end() &&
            found->second->snapshot()["state"] != "running") {
            if (it->second.joinable())
                it->second.join();
            it = m_threads.erase(it);
        } else {
            ++it;
        }
    }
    return job->m_id;
}

std::shared_ptr<Jobs::Job> Jobs::find(std::int64_t id) {
    std::lock_guard g(m_mutex);
    auto it = m_jobs.find(id);
    return it == m_jobs.end() ? nullptr : it->second;
}

bool Jobs::cancel(std::int64_t id) {
    auto job = find(id);
    if (!job)
        return false;
    job->m_cancel = true;
    return true;
}

} // namespace Kiln::Server
