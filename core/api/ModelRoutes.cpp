// /api/v1/models (see API.md): registration from a run's files, versions, lineage, edits and file bytes.
#include "Service.h"

#include "api/Validation.h"
#include "datasets/DatasetStore.h"
#include "environments/EnvironmentStore.h"
#include "metrics/MetricStore.h"
#include "models/ModelStore.h"
#include "runs/RunStore.h"
#include "server/ChangeHub.h"
#include "store/BlobStore.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <charconv>

namespace Kiln::Api {

namespace {

int parseModelVersion(const std::string& name, const std::string& s) {
    if (s == "latest")
        return 0;
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
        throw notFound("no such model version: " + name + ":" + s.substr(0, 40));
    return v;
}

std::string optionalText(const Json& body, const char* field, std::size_t maxLen) {
    if (!body.contains(field) || body[field].is_null())
        return {};
    if (!body[field].is_string() || body[field].get<std::string>().size() > maxLen)
        throw badRequest(std::string("'") + field + "' must be a string of at most " +
                         std::to_string(maxLen) + " bytes");
    return body[field].get<std::string>();
}

Json filesJson(const std::vector<Models::ModelFile>& files) {
    Json list = Json::array();
    for (const auto& f : files)
        list.push_back({{"path", f.path}, {"sha256", f.blob}, {"size", f.size}});
    return list;
}

} // namespace

Json Service::modelLineage(const Runs::RunRecord& run) {
    Json metrics = Json::object();
    for (const auto& k : m_d.metrics.keys(run.id))
        metrics[k["key"].get<std::string>()] = k["last"];
    auto environment = m_d.environments.ofRun(run.id);
    return {{"run",
             {{"id", run.id},
              {"name", run.name},
              {"experiment", run.experiment},
              {"status", Runs::toString(run.status)},
              {"script", run.script},
              {"args", run.args},
              {"compute", run.compute},
              {"source_path", run.sourcePath},
              {"ended", run.ended ? Json(*run.ended) : Json(nullptr)}}},
            {"datasets", m_d.datasets.datasetsOfRun(run.id)},
            {"environment", environment ? Json{{"name", environment->name}, {"version", environment->version}}
                                        : Json(nullptr)},
            {"snapshot", run.snapshot},
            {"metrics", std::move(metrics)}};
}

Response Service::listModels(Call& c) {
    const auto experiment = c.query.find("experiment");
    return jsonResponse(
        200, dump(m_d.models.list(experiment == c.query.end() ? std::string() : experiment->second)));
}

Response Service::registerModel(Call& c) {
    auto& store = m_d.models;
    auto body = parseBody(c.request.body);
    if (!body.contains("run") || !body["run"].is_number_integer())
        throw badRequest("body needs 'run': the id of the run whose files become the model");
    const auto runId = body["run"].get<std::int64_t>();
    auto run = runId > 0 ? m_d.runs.run(runId) : std::nullopt;
    if (!run)
        throw notFound("no such run: " + std::to_string(runId));
    Models::NewModelVersion model;
    model.name = validName(body.contains("name") ? body["name"] : Json(), "model name", 100);
    if (!Datasets::isValidName(model.name))
        throw badRequest("model name must be 1-100 letters, digits, '.', '_' or '-', start with a letter "
                         "or digit, and not contain '..'");
    auto path =
        Util::safeRelativePath(validName(body.contains("path") ? body["path"] : Json(), "path", 1000));
    if (!path)
        throw badRequest("path must be relative to the run's files (e.g. outputs/model), without '..'");
    const bool force = body.contains("force") && body["force"].is_boolean() && body["force"].get<bool>();
    if (run->status != Runs::RunStatus::Completed && !force)
        throw conflict("run " + std::to_string(runId) + " is " + std::string(Runs::toString(run->status)) +
                       ", not Completed: register with force (kiln model register --force) to use its "
                       "files anyway");
    model.files = Models::selectFiles(m_d.runs.files(runId), *path);
    if (model.files.empty())
        throw notFound(
            "run " + std::to_string(runId) + " has no file or folder " + *path +
            (Runs::isTerminal(run->status) ? std::string() : " (a run's files are collected when it ends)"));
    for (const auto& f : model.files)
        if (!m_d.blobs.has(f.blob))
            throw UserError(500, "the stored content of " + f.path + " is missing from the blob store");
    model.description = optionalText(body, "description", 10000);
    if (body.contains("tags") && !body["tags"].is_null())
        model.tags = validStringMap(body, "tags");
    model.runId = runId;
    model.sourcePath = *path;
    model.lineage = modelLineage(*run);
    auto version = store.registerVersion(std::move(model));
    m_d.hub.notify(kWorkspaceChannel);
    auto j = Models::toJson(version);
    j["files"] = filesJson(store.files(version.id));
    return jsonResponse(201, dump(j));
}

Response Service::getModel(Call& c) {
    const auto& name = c.param("name");
    auto versions =
        Datasets::isValidName(name) ? m_d.models.versions(name) : std::vector<Models::ModelVersion>{};
    if (versions.empty())
        throw notFound("no such model: " + name.substr(0, 100));
    Json list = Json::array();
    for (const auto& v : versions)
        list.push_back(Models::toJson(v));
    return jsonResponse(200, dump({{"name", name}, {"versions", list}}));
}

namespace {
Models::ModelVersion modelVersionOf(Models::ModelStore& store, const Call& c) {
    const auto& name = c.param("name");
    if (!Datasets::isValidName(name))
        throw notFound("no such model: " + name.substr(0, 100));
    const auto& v = c.param("version");
    auto version = store.version(name, parseModelVersion(name, v));
    if (!version)
        throw notFound("no such model version: " + name + ":" + v.substr(0, 40));
    return std::move(*version);
}
} // namespace

Response Service::getModelVersion(Call& c) {
    const auto version = modelVersionOf(m_d.models, c);
    auto j = Models::toJson(version);
    j["files"] = filesJson(m_d.models.files(version.id));
    return jsonResponse(200, dump(j));
}

Response Service::updateModelVersion(Call& c) {
    auto& store = m_d.models;
    const auto& name = c.param("name");
    const auto version = modelVersionOf(store, c);
    auto body = parseBody(c.request.body);
    Models::ModelUpdate change;
    if (body.contains("description"))
        change.description = optionalText(body, "description", 10000);
    if (body.contains("tags"))
        change.tags = validStringMap(body, "tags");
    if (body.contains("archived")) {
        if (!body["archived"].is_boolean())
            throw badRequest("'archived' must be true or false");
        change.archived = body["archived"].get<bool>();
    }
    auto updated = store.update(name, version.version, change);
    m_d.hub.notify(kWorkspaceChannel);
    return jsonResponse(200, dump(Models::toJson(updated)));
}

Response Service::modelFile(Call& c) {
    const auto version = modelVersionOf(m_d.models, c);
    const auto path = relativePath(c.param("path"), "model");
    for (const auto& f : m_d.models.files(version.id))
        if (f.path == path)
            return blobResponse(f.blob, c.request);
    throw notFound("model " + version.name + ":" + std::to_string(version.version) + " has no file " + path);
}

} // namespace Kiln::Api
