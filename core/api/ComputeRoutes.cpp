// /api/v1/compute (see API.md).
#include "Service.h"

#include "api/Validation.h"
#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "compute/SlurmClient.h"
#include "compute/SlurmNodes.h"
#include "server/Jobs.h"
#include "util/Fs.h"

#include "runs/RunStore.h"
#include "runs/Scheduler.h"
#include "util/Error.h"
#include <thread>

namespace Kiln::Api {

Json Service::computeSummary(const Compute::Target& t) {
    auto j = Compute::toJson(t);
    j["nodes_in_use"] = m_d.pool.inUse(t.name);
    int queued = 0;
    for (const auto& [id, compute] : m_d.scheduler.queue())
        queued += compute == t.name;
    j["queued"] = queued;
    return j;
}

Response Service::listCompute(Call&) {
    Json out = Json::array();
    for (const auto& t : m_d.compute.list())
        out.push_back(computeSummary(t));
    return jsonResponse(200, dump(out));
}

Response Service::createCompute(Call& c) {
    auto& store = m_d.compute;
    {
        const auto body = parseBody(c.request.body);
        auto target = Compute::targetFromRequest(body);
        if (target.type == "local") {
            target.state = "Succeeded"; // a local pool needs nothing provisioned
            return jsonResponse(201, dump(computeSummary(store.create(target))));
        }
        if (store.get(target.name))
            throw conflict("a compute target named '" + target.name + "' exists already");
        // Slurm: provisioning talks to the cluster and runs a probe job, as a job the client can follow.
        const std::string token = body["slurm_token"].get<std::string>();
        const std::filesystem::path workspace = m_d.workspacePath;
        auto* computeStore = &m_d.compute;
        auto* slurmNodes = &m_d.slurmNodes;
        auto id = m_d.jobs.start("compute-provision", [computeStore, slurmNodes, target, token,
                                                       workspace](Server::Jobs::Job& job) mutable {
            auto step = [&job](const std::string& what) { job.setProgress({{"step", what}}); };
            Compute::SlurmClient slurm(target.config["slurm_url"], target.config["slurm_user"], token);
            step("pinging slurmrestd");
            try {
                slurm.ping();
            } catch (const UserError& e) {
                if (e.status() == 502 && std::string(e.what()).find("unreachable") != std::string::npos)
                    throw;
                // slurmrestd 22.05 answers a wrong token with HTTP 500 "Unspecified error".
                throw UserError(401, std::string("slurmrestd refused the user or token (") + e.what() + ")");
            }
            step("reading partitions");
            const auto partition = target.config["partition"].get<std::string>();
            std::string known;
            bool found = false;
            for (const auto& p : slurm.partitions()) {
                known += (known.empty() ? "" : ", ") + p.value("name", std::string());
                found |= p.value("name", std::string()) == partition;
            }
            if (!found)
                throw badRequest("the cluster has no partition '" + partition + "' (it has: " + known + ")");
            step("reading nodes");
            const auto nodes = slurm.nodes();
            step("running a probe job");
            const auto probe = slurm.submit("kiln-probe", partition, "#!/bin/sh\ntrue\n",
                                            {{"PATH", "/usr/bin:/bin"}}, "/tmp", "/dev/null");
            for (int i = 0;; ++i) {
                const auto state = slurm.job(probe).value("job_state", std::string());
                if (state == "COMPLETED")
                    break;
                if (state == "FAILED" || state == "CANCELLED" || state == "TIMEOUT" || state == "NODE_FAIL" ||
                    i > 600)
                    throw UserError(502, "the probe job ended " +
                                             (state.empty() ? std::string("unknown") : state));
                if (job.canceled())
                    throw UserError(499, "canceled");
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            std::filesystem::create_directories(workspace / "secrets");
            std::filesystem::permissions(workspace / "secrets", std::filesystem::perms::owner_all);
            Util::writeFileAtomic(Compute::slurmTokenPath(workspace, target.name), token, 0600);
            target.state = "Succeeded";
            const auto made = computeStore->create(target);
            slurmNodes->seed(made, nodes); // (shown at once, then kept fresh in the background)
            auto created = Compute::toJson(made);
            created["nodes_found"] = nodes.size();
            return created;
        });
        return jsonResponse(202, dump({{"job", id}}));
    }
}

Response Service::getCompute(Call& c) {
    const auto& name = c.param("name");
    auto target = Compute::isValidTargetName(name) ? m_d.compute.get(name) : std::nullopt;
    if (!target)
        throw notFound("no such compute target: " + name.substr(0, 100));
    auto j = computeSummary(*target);
    if (target->type == "slurm") {
        // The cluster's own view of its nodes, as last read by SlurmNodes' thread (never waited for here).
        auto known = m_d.slurmNodes.get(*target);
        j["nodes"] = std::move(known.nodes);
        j["nodes_error"] = known.error.empty() ? Json(nullptr) : Json(known.error);
        j["nodes_checked"] = known.checkedAgo < 0 ? Json(nullptr) : Json(known.checkedAgo);
    } else {
        j["nodes"] = m_d.pool.nodes(*target);
    }
    Json queue = Json::array();
    int position = 0;
    for (const auto& [id, compute] : m_d.scheduler.queue()) {
        if (compute != target->name)
            continue;
        auto run = m_d.runs.run(id);
        queue.push_back({{"id", id}, {"name", run ? run->name : std::string()}, {"position", ++position}});
    }
    j["queue"] = queue;
    Json running = Json::array();
    for (const auto& run : m_d.runs.runsInStates(
             {Runs::RunStatus::Preparing, Runs::RunStatus::Running, Runs::RunStatus::Finalizing}))
        if (run.compute == target->name)
            running.push_back({{"id", run.id},
                               {"name", run.name},
                               {"status", Runs::toString(run.status)},
                               {"node", run.node}});
    j["running"] = running;
    // Each node's load now: what the runs on it use (their supervisors' latest system metrics), summed.
    std::vector<std::int64_t> ids;
    for (const auto& r : running)
        ids.push_back(r["id"].get<std::int64_t>());
    const auto metrics = m_d.runs.metricSummaries(ids);
    for (auto& node : j["nodes"]) {
        double cpu = 0, rss = 0;
        bool sampled = false;
        for (const auto& r : running) {
            if (r["node"] != node["name"])
                continue;
            if (node["run"].is_null())
                node["run"] = r["id"];
            const auto m = metrics.find(std::to_string(r["id"].get<std::int64_t>()));
            if (m == metrics.end())
                continue;
            for (const auto& [key, total] : {std::pair{"sys/cpu", &cpu}, {"sys/rss_mb", &rss}})
                if (m->contains(key) && (*m)[key]["last"].is_number()) {
                    *total += (*m)[key]["last"].get<double>();
                    sampled = true;
                }
        }
        if (sampled)
            node["load"] = {{"cpu", cpu}, {"rss_mb", rss}};
    }
    return jsonResponse(200, dump(j));
}

} // namespace Kiln::Api
