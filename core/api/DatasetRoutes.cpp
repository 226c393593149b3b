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

Response methodNotAllowed(const Request& r) {
    return errorResponse(405, "method " + r.method + " not allowed on " + r.path.substr(0, 200));
}

} // namespace

Response Service::routeDatasets(const Request& r, const Segments& seg, const Query&) {
    auto& store = m_d.datasets;
    if (seg.size() == 1) {
        if (r.method == "GET")
            return jsonResponse(200, dump(store.list()));
        if (r.method != "POST")
            return methodNotAllowed(r);
        const auto body = parseBody(r.body);
        auto id = m_d.jobs.start("dataset-register", datasetRegistration(body), body);
        return jsonResponse(202, dump({{"job", id}}));
    }
    const auto& name = seg[1];
    if (!Datasets::isValidName(name))
        throw notFound("no such dataset: " + name.substr(0, 100));
    if (seg.size() == 2) {
        if (r.method != "GET")
            return methodNotAllowed(r);
        auto versions = store.versions(name);
        if (versions.empty())
            throw notFound("no such dataset: " + name);
        Json list = Json::array();
        for (const auto& v : versions)
            list.push_back(Datasets::toJson(v));
        return jsonResponse(200, dump({{"name", name}, {"versions", list}}));
    }
    if (seg.size() >= 4 && seg[2] == "versions") {
        if (r.method != "GET")
            return methodNotAllowed(r);
        auto version = store.version(name, parseVersion(seg[3]));
        if (!version)
            throw notFound("no such dataset version: " + name + ":" + seg[3].substr(0, 40));
        auto files = store.files(version->id);
        if (seg.size() == 4) {
            auto j = Datasets::toJson(*version);
            Json list = Json::array();
            for (const auto& f : files)
                list.push_back(
                    {{"path", f.path}, {"sha256", f.blob}, {"size", f.size}, {"source", f.source}});
            j["files"] = std::move(list);
            j["runs"] = store.runsUsing(version->id);
            return jsonResponse(200, dump(j));
        }
        if (seg[4] == "files" && seg.size() >= 6) {
            const auto path = relativePathFrom(seg, 5, "dataset");
            for (const auto& f : files)
                if (f.path == path)
                    return blobResponse(f.blob, r);
            throw notFound("dataset " + name + " version " + std::to_string(version->version) +
                           " has no file " + path);
        }
    }
    throw notFound("no such endpoint: " + r.method + " " + r.path.substr(0, 200));
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

Response Service::routeJobs(const Request& r, const Segments& seg, const Query& query, Responder& reply,
                            bool& deferred) {
    if (seg.size() < 2)
        throw notFound("no such endpoint: " + r.path.substr(0, 200));
    const auto id = parseId(seg[1], "job");
    auto job = m_d.jobs.find(id);
    if (!job)
        throw notFound("no such job: " + std::to_string(id));
    if (seg.size() == 3 && seg[2] == "cancel") {
        if (r.method != "POST")
            return methodNotAllowed(r);
        m_d.jobs.cancel(id);
        return jsonResponse(202, dump(job->snapshot()));
    }
    if (seg.size() != 2)
        throw notFound("no such endpoint: " + r.path.substr(0, 200));
    if (r.method != "GET")
        return methodNotAllowed(r);
    const auto seen = queryInt(query, "version", -1, -1, std::numeric_limits<std::int64_t>::max());
    const auto timeoutMs = queryInt(query, "timeout_ms", 0, 0, 60000);
    const auto channel = Server::Jobs::channel(id);
    const auto hubVersion = m_d.hub.version(channel);
    auto now = job->snapshot();
    if (timeoutMs == 0 || now["state"] != "running" || now["version"].get<std::int64_t>() != seen)
        return jsonResponse(200, dump(now));
    deferred = true;
    m_d.hub.wait(channel, hubVersion, std::chrono::milliseconds(timeoutMs),
                 [job, reply]() { reply(jsonResponse(200, dump(job->snapshot()))); });
    return {};
}

} // namespace Kiln::Api
