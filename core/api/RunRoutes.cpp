// /api/v1/runs queries and run and experiment management (see API.md): listing pages of a query, renaming,
// starring, archiving, notes, deleting a run and freeing what only it used; renaming and archiving
// experiments. Submitting and following runs stay in Service.cpp.
#include "Service.h"

#include "api/Validation.h"
#include "models/ModelStore.h"
#include "runs/RunStore.h"
#include "server/ChangeHub.h"
#include "store/Gc.h"
#include "sweeps/SweepStore.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>
#include <filesystem>
#include <limits>

namespace Kiln::Api {

Response Service::listExperiments(Call& c) {
    return jsonResponse(200, dump(m_d.runs.experiments(queryInt(c.query, "archived", 0, 0, 1) == 1)));
}

Response Service::runColumns(Call& c) {
    const auto it = c.query.find("experiment");
    return jsonResponse(200, dump(m_d.runs.columns(it == c.query.end() ? std::string() : it->second)));
}

Response Service::listRuns(Call& c) {
    const auto& query = c.query;
    auto text = [&](const char* key, std::size_t max) {
        const auto it = query.find(key);
        if (it == query.end())
            return std::string();
        if (it->second.size() > max)
            throw badRequest(std::string("query parameter '") + key + "' is longer than " +
                             std::to_string(max) + " characters");
        return it->second;
    };
    Runs::RunQuery q;
    q.experiment = text("experiment", 1000);
    q.text = text("q", 1000);
    q.filter = text("filter", 10000);
    q.orderBy = text("order_by", 1000);
    q.archived = queryInt(query, "archived", 0, 0, 1) == 1;
    if (query.count("sweep"))
        q.sweep = queryInt(query, "sweep", 0, 1, std::numeric_limits<std::int64_t>::max());
    q.limit = queryInt(query, "limit", 1000, 1, 100000);
    q.offset = queryInt(query, "offset", 0, 0, std::numeric_limits<std::int32_t>::max());
    Runs::QueryResult result;
    try {
        result = m_d.runs.query(q);
    } catch (const Runs::QueryError& e) {
        throw badRequest(std::string(e.what()));
    }
    // Each row's metric summaries, unless the caller wants none (metrics=0: the studio's tree, which lists
    // thousands of runs on every change and shows no metric).
    const bool withMetrics = queryInt(query, "metrics", 1, 0, 1) == 1;
    std::vector<std::int64_t> ids;
    for (const auto& run : result.runs)
        ids.push_back(run.id);
    const auto summaries = withMetrics ? m_d.runs.metricSummaries(ids) : Json::object();
    Json out = Json::array();
    for (const auto& run : result.runs) {
        auto j = Runs::toJson(run);
        if (withMetrics) {
            const auto s = summaries.find(std::to_string(run.id));
            j["metrics"] = s == summaries.end() ? Json::object() : *s;
        }
        out.push_back(std::move(j));
    }
    auto response = jsonResponse(200, dump(out));
    response.headers["X-Total-Count"] = std::to_string(result.total);
    return response;
}

Response Service::manageRun(Call& c) {
    const auto run = runOf(c);
    const auto body = parseBody(c.request.body);
    if (!body.is_object() || body.empty())
        throw badRequest("send what to change: {name, starred, archived, note}");
    for (const auto& [key, value] : body.items())
        if (key != "name" && key != "starred" && key != "archived" && key != "note")
            throw badRequest("a run has no setting '" + key + "' to change (name, starred, archived, note)");
    auto flag = [&](const char* key) -> std::optional<bool> {
        if (!body.contains(key))
            return std::nullopt;
        if (!body[key].is_boolean())
            throw badRequest(std::string(key) + " must be true or false");
        return body[key].get<bool>();
    };
    std::optional<std::string> name, note;
    if (body.contains("name"))
        name = validName(body["name"], "name");
    if (body.contains("note")) {
        if (!body["note"].is_string() || body["note"].get<std::string>().size() > 100000)
            throw badRequest("note must be text of at most 100000 bytes (Markdown)");
        note = body["note"].get<std::string>();
    }
    const auto starred = flag("starred");
    const auto archived = flag("archived");
    m_d.runs.manage(run.id, name, starred, archived, note);
    m_d.hub.notify(run.id);
    m_d.hub.notify(kWorkspaceChannel);
    return jsonResponse(200, dump(runJson(*m_d.runs.run(run.id))));
}

Response Service::deleteRun(Call& c) {
    const auto run = runOf(c);
    const auto id = std::to_string(run.id);
    if (!Runs::isTerminal(run.status))
        throw UserError(409, "run " + id + " is " + std::string(Runs::toString(run.status)) +
                                 ": cancel it first, then delete it");
    const auto models = m_d.models.modelsOfRun(run.id);
    if (!models.empty()) {
        std::string names;
        for (const auto& mv : models)
            names += (names.empty() ? "" : ", ") + mv["name"].get<std::string>() + ":" +
                     std::to_string(mv["version"].get<std::int64_t>());
        throw UserError(409, "run " + id + " cannot be deleted: model " + names +
                                 (models.size() > 1 ? " were" : " was") +
                                 " registered from it and keeps its lineage. Archive the run instead");
    }
    if (run.sweepId)
        if (auto sweep = m_d.sweepStore.get(*run.sweepId); sweep && sweep->status == "Running")
            throw UserError(409, "run " + id + " is a trial of sweep " + std::to_string(*run.sweepId) +
                                     ", which is still running: cancel the sweep first");
    const auto blobs = m_d.runs.deleteRun(run.id);
    // Its blobs that nothing else refers to go now. One touched since the run ended is in use elsewhere (a
    // submit in flight, another run's outputs being kept: both touch what exists) and stays for
    // `kiln workspace gc`: the grace reaches back to a second after the run's end.
    const double sinceEnd = Util::nowSeconds() - run.ended.value_or(run.created);
    const auto grace =
        std::chrono::seconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(sinceEnd) - 1));
    const auto freed = Store::collectGarbage(m_d.db, m_d.blobs, grace, &blobs);
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(m_d.workspacePath) / "runs" / id, ec);
    m_d.hub.notify(run.id);
    m_d.hub.notify(kWorkspaceChannel);
    return jsonResponse(
        200, dump({{"deleted", run.id}, {"files_freed", freed.removed}, {"bytes_freed", freed.bytesFreed}}));
}

Response Service::manageExperiment(Call& c) {
    const auto& name = c.param("name");
    const auto body = parseBody(c.request.body);
    if (!body.is_object() || body.empty())
        throw badRequest("send what to change: {name, archived}");
    for (const auto& [key, value] : body.items())
        if (key != "name" && key != "archived")
            throw badRequest("an experiment has no setting '" + key + "' to change (name, archived)");
    bool known = false;
    for (const auto& e : m_d.runs.experiments(true))
        known = known || e["name"] == name;
    if (!known)
        throw notFound("no such experiment: " + name.substr(0, 200));
    std::string current = name;
    if (body.contains("archived")) {
        if (!body["archived"].is_boolean())
            throw badRequest("archived must be true or false");
        m_d.runs.archiveExperiment(name, body["archived"].get<bool>());
    }
    if (body.contains("name")) {
        const auto to = experimentName(body["name"]);
        if (to != name && !m_d.runs.renameExperiment(name, to))
            throw UserError(409, "an experiment called '" + to + "' exists already");
        current = to;
    }
    m_d.hub.notify(kWorkspaceChannel);
    for (const auto& e : m_d.runs.experiments(true))
        if (e["name"] == current)
            return jsonResponse(200, dump(e));
    throw notFound("no such experiment: " + current);
}

} // namespace Kiln::Api
