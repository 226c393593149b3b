#include "Jobs.h"

#include "server/ChangeHub.h"
#include "store/Database.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <iostream>

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

void Jobs::record(const Job& job) {
    if (!m_db)
        return;
    try {
        std::lock_guard jg(job.m_mutex);
        auto lock = m_db->lock();
        m_db->prepare("UPDATE jobs SET state = ?, error = ?, result = ?, ended = ? WHERE id = ?")
            .bind(1, job.m_state)
            .bind(2, job.m_error)
            .bind(3, job.m_result.dump(-1, ' ', false, Json::error_handler_t::replace))
            .bind(4, Util::nowSeconds())
            .bind(5, job.m_id)
            .exec();
    } catch (const std::exception& e) { // a full disk: the client saw the outcome; the record lags
        std::cerr << "kilnd: job " << job.m_id << ": cannot record its end: " << e.what() << std::endl;
    }
}

void Jobs::run(const std::shared_ptr<Job>& job, Work work) {
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
        record(*job);
        notify(*job);
    });
}

std::int64_t Jobs::start(const std::string& kind, Work work, const Json& request) {
    auto job = std::make_shared<Job>();
    job->m_kind = kind;
    job->m_jobs = this;
    std::lock_guard g(m_mutex);
    if (m_stopping)
        throw UserError(503, "the server is stopping");
    if (m_db) {
        auto lock = m_db->lock();
        m_db->prepare("INSERT INTO jobs(kind, request, state, created) VALUES(?, ?, 'running', ?)")
            .bind(1, kind)
            .bind(2, request.dump())
            .bind(3, Util::nowSeconds())
            .exec();
        job->m_id = m_db->lastInsertId();
        m_next = std::max(m_next, job->m_id + 1);
    } else {
        job->m_id = m_next++;
    }
    m_jobs[job->m_id] = job;
    run(job, std::move(work));
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

void Jobs::recover(const std::map<std::string, Resume>& resume) {
    if (!m_db)
        return;
    struct Left {
        std::int64_t id;
        std::string kind;
        std::string request;
    };
    std::vector<Left> left;
    {
        auto lock = m_db->lock();
        auto st = m_db->prepare("SELECT id, kind, request FROM jobs WHERE state = 'running' ORDER BY id");
        while (st.step())
            left.push_back({st.int64(0), st.text(1), st.text(2)});
        auto max = m_db->prepare("SELECT COALESCE(MAX(id), 0) FROM jobs");
        max.step();
        m_next = std::max(m_next, max.int64(0) + 1);
    }
    for (const auto& l : left) {
        auto job = std::make_shared<Job>();
        job->m_id = l.id;
        job->m_kind = l.kind;
        job->m_jobs = this;
        auto it = resume.find(l.kind);
        Work work;
        try {
            if (it != resume.end())
                work = it->second(Json::parse(l.request));
        } catch (const std::exception& e) {
            std::cerr << "kilnd: job " << l.id << " cannot be resumed: " << e.what() << std::endl;
        }
        std::lock_guard g(m_mutex);
        m_jobs[l.id] = job;
        if (work) {
            job->m_progress = {{"resumed", true}};
            std::cerr << "kilnd: resuming job " << l.id << " (" << l.kind
                      << ") that a previous kilnd left running" << std::endl;
            run(job, std::move(work));
        } else {
            job->m_state = "failed";
            job->m_error =
                "kilnd stopped while this " + l.kind + " ran; nothing of it was kept: start it again";
            job->m_errorStatus = 500;
            record(*job);
        }
    }
}

std::shared_ptr<Jobs::Job> Jobs::find(std::int64_t id) {
    std::lock_guard g(m_mutex);
    auto it = m_jobs.find(id);
    if (it != m_jobs.end())
        return it->second;
    if (!m_db)
        return nullptr;
    // One a previous kilnd ran: as it ended.
    auto lock = m_db->lock();
    auto st = m_db->prepare("SELECT kind, state, error, result FROM jobs WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return nullptr;
    auto job = std::make_shared<Job>();
    job->m_id = id;
    job->m_kind = st.text(0);
    job->m_state = st.text(1);
    job->m_error = st.text(2);
    try {
        job->m_result = Json::parse(st.text(3));
    } catch (const std::exception&) {
    }
    job->m_jobs = this;
    m_jobs[id] = job;
    return job;
}

bool Jobs::cancel(std::int64_t id) {
    auto job = find(id);
    if (!job)
        return false;
    job->m_cancel = true;
    return true;
}

} // namespace Kiln::Server
