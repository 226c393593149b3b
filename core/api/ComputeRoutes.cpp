// /api/v1/compute (see API.md).
#include "Service.h"

#include "api/Validation.h"
#include "compute/ComputeStore.h"
#include "compute/LocalPool.h"
#include "runs/LocalExecutor.h"
#include "runs/RunStore.h"
#include "util/Error.h"

namespace Kiln::Api {

Response Service::routeCompute(const Request& r, const Segments& seg) {
    auto& store = m_d.compute;
    auto summary = [this](const Compute::Target& t) {
        auto j = Compute::toJson(t);
        j["nodes_in_use"] = m_d.pool.inUse(t.name);
        int queued = 0;
        for (const auto& [id, compute] : m_d.executor.queue())
            queued += compute == t.name;
        j["queued"] = queued;
        return j;
    };
    if (seg.size() == 1) {
        if (r.method == "GET") {
            Json out = Json::array();
            for (const auto& t : store.list())
                out.push_back(summary(t));
            return jsonResponse(200, dump(out));
        }
        if (r.method != "POST")
            return errorResponse(405, "method not allowed");
        auto target = Compute::targetFromRequest(parseBody(r.body));
        target.state = "Succeeded"; // a local pool needs nothing provisioned
        return jsonResponse(201, dump(summary(store.create(target))));
    }
    if (seg.size() != 2 || r.method != "GET")
        throw notFound("no such endpoint: " + r.method + " " + r.path.substr(0, 200));
    auto target = Compute::isValidTargetName(seg[1]) ? store.get(seg[1]) : std::nullopt;
    if (!target)
        throw notFound("no such compute target: " + seg[1].substr(0, 100));
    auto j = summary(*target);
    j["nodes"] = m_d.pool.nodes(*target);
    Json queue = Json::array();
    int position = 0;
    for (const auto& [id, compute] : m_d.executor.queue()) {
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
    return jsonResponse(200, dump(j));
}

} // namespace Kiln::Api
