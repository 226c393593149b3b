// /api/v1/sweeps (see API.md): hyperparameter sweeps, carried out by core/sweeps/Controller.
#include "Service.h"

#include "api/Validation.h"
#include "runs/RunStore.h"
#include "server/ChangeHub.h"
#include "sweeps/Controller.h"
#include "sweeps/SweepSpec.h"
#include "util/Error.h"

namespace Kiln::Api {

std::int64_t Service::submitTrial(const Json& spec, std::int64_t sweepId, const Json& values,
                                  std::int64_t draw, int number) {
    const auto parsed = Sweeps::SweepSpec::fromJson(spec);
    Json body = parsed.run;
    if (!body.contains("args") || !body["args"].is_array())
        body["args"] = Json::array();
    Runs::NewRun trial;
    for (const auto& p : parsed.parameters) {
        const auto& v = values.at(p.name);
        body["args"].push_back(p.argument());
        body["args"].push_back(v.is_string() ? v.get<std::string>() : v.dump());
        trial.params[p.key()] = v;
    }
    body["name"] = "sweep " + std::to_string(sweepId) + " trial " + std::to_string(number);
    trial.sweepId = sweepId;
    trial.sweepDraw = draw;
    return submitRun(body, trial);
}

Response Service::routeSweeps(const Request& r, const Segments& seg, const Query& query) {
    const auto& m = r.method;
    if (seg.size() == 1) {
        if (m == "GET") {
            const auto limit = queryInt(query, "limit", 100, 1, 10000);
            const auto offset = queryInt(query, "offset", 0, 0, 1 << 30);
            Json out = Json::array();
            for (const auto& s : m_d.sweepStore.list(limit, offset))
                out.push_back(m_d.sweeps.view(s, false));
            return jsonResponse(200, dump(out));
        }
        if (m != "POST")
            return errorResponse(405, "method " + m + " not allowed on " + r.path);
        const auto body = parseBody(r.body);
        Sweeps::SweepSpec spec;
        try {
            spec = Sweeps::SweepSpec::fromJson(body);
        } catch (const Sweeps::SpaceError& e) {
            throw badRequest(e.what());
        }
        // The template must be a run that could be submitted now (script, snapshot, datasets, environment,
        // compute), so a typo fails the sweep's submit and not each of its trials.
        submitRun(spec.run, {}, true);
        const auto id = m_d.sweepStore.create(spec.run["experiment"].get<std::string>(), spec.toJson());
        m_d.sweeps.created(id);
        m_d.hub.notify(kWorkspaceChannel);
        return jsonResponse(201, dump(m_d.sweeps.view(*m_d.sweepStore.get(id), true)));
    }
    const auto id = parseId(seg[1], "sweep");
    auto sweep = m_d.sweepStore.get(id);
    if (!sweep)
        throw notFound("no such sweep: " + std::to_string(id));
    if (seg.size() == 2) {
        if (m != "GET")
            return errorResponse(405, "method " + m + " not allowed on " + r.path);
        return jsonResponse(200, dump(m_d.sweeps.view(*sweep, true)));
    }
    if (seg.size() == 3 && seg[2] == "cancel") {
        if (m != "POST")
            return errorResponse(405, "method " + m + " not allowed on " + r.path);
        m_d.sweeps.cancel(id, "the user");
        m_d.hub.notify(kWorkspaceChannel);
        return jsonResponse(202, dump(m_d.sweeps.view(*m_d.sweepStore.get(id), true)));
    }
    throw notFound("no such endpoint: " + r.path.substr(0, 200));
}

} // namespace Kiln::Api
