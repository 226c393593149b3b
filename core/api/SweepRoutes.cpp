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

Response Service::listSweeps(Call& c) {
    const auto limit = queryInt(c.query, "limit", 100, 1, 10000);
    const auto offset = queryInt(c.query, "offset", 0, 0, 1 << 30);
    Json out = Json::array();
    for (const auto& s : m_d.sweepStore.list(limit, offset))
        out.push_back(m_d.sweeps.view(s, false));
    return jsonResponse(200, dump(out));
}

Response Service::createSweep(Call& c) {
    const auto body = parseBody(c.request.body);
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

Response Service::getSweep(Call& c) {
    const auto id = c.id("sweep");
    auto sweep = m_d.sweepStore.get(id);
    if (!sweep)
        throw notFound("no such sweep: " + std::to_string(id));
    return jsonResponse(200, dump(m_d.sweeps.view(*sweep, true)));
}

Response Service::sweepChanges(Call& c) {
    const auto id = c.id("sweep");
    if (!m_d.sweepStore.get(id))
        throw notFound("no such sweep: " + std::to_string(id));
    return longPoll(c, sweepChannel(id));
}

Response Service::cancelSweep(Call& c) {
    const auto id = c.id("sweep");
    if (!m_d.sweepStore.get(id))
        throw notFound("no such sweep: " + std::to_string(id));
    m_d.sweeps.cancel(id, "the user");
    m_d.hub.notify(kWorkspaceChannel);
    return jsonResponse(202, dump(m_d.sweeps.view(*m_d.sweepStore.get(id), true)));
}

} // namespace Kiln::Api
