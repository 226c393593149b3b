// /api/v1/datasets and /api/v1/jobs (see API.md).
#include "Service.h"

#include "api/Validation.h"
#include "datasets/DatasetStore.h"
#include "datasets/Registration.h"
#include "environments/EnvironmentStore.h"
#include "server/ChangeHub.h"
#include "server/Jobs.h"
#include "store/BlobStore.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <charconv>
#include <limits>

namespace Kiln::Api {

namespace {

int parseVersion(const std::string& s) {
    if (s == "latest")
        return 0;
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
        throw notFound("no such dataset version: " + s.substr(0, 40));
    return v;
}

} // namespace

Response Service::listDatasets(Call&) {
    return jsonResponse(200, dump(m_d.datasets.list()));
}

Response Service::registerDataset(Call& c) {
    const auto body = parseBody(c.request.body);
    auto id = m_d.jobs.start("dataset-register", datasetRegistration(body), body);
    return jsonResponse(202, dump({{"job", id}}));
}

Response Service::getDataset(Call& c) {
    const auto& name = c.param("name");
    auto versions =
        Datasets::isValidName(name) ? m_d.datasets.versions(name) : std::vector<Datasets::DatasetVersion>{};
    if (versions.empty())
        throw notFound("no such dataset: " + name.substr(0, 100));
    Json list = Json::array();
    for (const auto& v : versions)
        list.push_back(Datasets::toJson(v));
    return jsonResponse(200, dump({{"name", name}, {"versions", list}}));
}

namespace {
Datasets::DatasetVersion datasetVersionOf(Datasets::DatasetStore& store, const Call& c) {
    const auto& name = c.param("name");
    if (!Datasets::isValidName(name))
        throw notFound("no such dataset: " + name.substr(0, 100));
    const auto& v = c.param("version");
    auto version = store.version(name, parseVersion(v));
    if (!version)
        throw notFound("no such dataset version: " + name + ":" + v.substr(0, 40));
    return std::move(*version);
}
} // namespace

Response Service::getDatasetVersion(Call& c) {
    const auto version = datasetVersionOf(m_d.datasets, c);
    auto j = Datasets::toJson(version);
    Json list = Json::array();
    for (const auto& f : m_d.datasets.files(version.id))
        list.push_back({{"path", f.path}, {"sha256", f.blob}, {"size", f.size}, {"source", f.source}});
    j["files"] = std::move(list);
    j["runs"] = m_d.datasets.runsUsing(version.id);
    return jsonResponse(200, dump(j));
}

Response Service::datasetFile(Call& c) {
    const auto version = datasetVersionOf(m_d.datasets, c);
    const auto path = relativePath(c.param("path"), "dataset");
    for (const auto& f : m_d.datasets.files(version.id))
        if (f.path == path)
            return blobResponse(f.blob, c.request);
    throw notFound("dataset " + version.name + " version " + std::to_string(version.version) +
                   " has no file " + path);
}

Server::Jobs::Work Service::datasetRegistration(const Json& body) {
    auto request = Datasets::parseRegisterRequest(body); // a bad request is refused before any job exists
    auto* blobs = &m_d.blobs;
    auto* store = &m_d.datasets;
    return [request, blobs, store](Server::Jobs::Job& job) {
        return Datasets::registerDataset(
            request, *blobs, *store,
            {[&job](const Json& p) { job.setProgress(p); }, [&job]() { return job.canceled(); }});
    };
}

void Service::resumeJobs() {
    // Registering is all or nothing and content-addressed, building is cached by the spec's hash: both can
    // simply run again. Provisioning is not resumed (its token is not kept): it ends failed, saying so.
    m_d.jobs.recover(
        {{"dataset-register", [this](const Json& request) { return datasetRegistration(request); }},
         {"environment-build", [this](const Json& request) {
              auto version = resolveEnvironment(request.at("environment").get<std::string>());
              if (!version)
                  throw std::runtime_error("its environment no longer exists");
              return environmentBuild(version->spec);
          }}});
}

Response Service::cancelJob(Call& c) {
    const auto id = c.id("job");
    auto job = m_d.jobs.find(id);
    if (!job)
        throw notFound("no such job: " + std::to_string(id));
    m_d.jobs.cancel(id);
    return jsonResponse(202, dump(job->snapshot()));
}

Response Service::getJob(Call& c) {
    const auto id = c.id("job");
    auto job = m_d.jobs.find(id);
    if (!job)
        throw notFound("no such job: " + std::to_string(id));
    const auto seen = queryInt(c.query, "version", -1, -1, std::numeric_limits<std::int64_t>::max());
    const auto timeoutMs = queryInt(c.query, "timeout_ms", 0, 0, 60000);
    const auto channel = Server::Jobs::channel(id);
    const auto hubVersion = m_d.hub.version(channel);
    auto now = job->snapshot();
    if (timeoutMs == 0 || now["state"] != "running" || now["version"].get<std::int64_t>() != seen)
        return jsonResponse(200, dump(now));
    c.deferred = true;
    m_d.hub.wait(channel, hubVersion, std::chrono::milliseconds(timeoutMs),
                 [job, reply = c.reply]() { reply(jsonResponse(200, dump(job->snapshot()))); });
    return {};
}

} // namespace Kiln::Api
