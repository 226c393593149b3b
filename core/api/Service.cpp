#include "Service.h"

#include "api/Validation.h"
#include "compute/ComputeStore.h"
#include "datasets/DatasetRef.h"
#include "datasets/DatasetStore.h"
#include "environments/EnvironmentStore.h"

#include "metrics/MetricStore.h"
#include "models/ModelStore.h"
#include "runs/RunStore.h"
#include "runs/Scheduler.h"
#include "runs/Snapshot.h"
#include "server/ChangeHub.h"
#include "store/BlobStore.h"
#include "store/Gc.h"
#include "sweeps/Controller.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <limits>

namespace Kiln::Api {

using Runs::RunStatus;

Response jsonResponse(int status, const std::string& body) {
    Response r;
    r.status = status;
    r.body = body;
    return r;
}

Response errorResponse(int status, const std::string& message) {
    return jsonResponse(status, dump(Json{{"error", message}}));
}

std::optional<Service::Caller> Service::authenticate(const std::string& authorization) const {
    constexpr std::string_view prefix = "Bearer ";
    if (!authorization.starts_with(prefix))
        return std::nullopt;
    const std::string token = authorization.substr(prefix.size());
    if (Util::constantTimeEquals(token, m_d.token))
        return Caller{true, 0};
    // Run tokens read "r<run id>-<secret>"; the run stores the secret's hash and the token dies with the run.
    if (token.size() > 2 && token[0] == 'r') {
        auto dash = token.find('-');
        std::int64_t id = 0;
        auto [p, ec] = std::from_chars(token.data() + 1, token.data() + std::min(dash, token.size()), id);
        if (ec == std::errc() && dash != std::string::npos && id > 0) {
            auto run = m_d.runs.liveness(id);
            if (run && !Runs::isTerminal(run->status) && !run->tokenHash.empty() &&
                Util::constantTimeEquals(Util::sha256Hex(token), run->tokenHash))
                return Caller{false, id};
        }
    }
    return std::nullopt;
}

std::optional<Response> Service::precheck(const Request& r, std::uint64_t contentLength) const {
    std::optional<Response> refused;
    const bool blob = r.method == "PUT" && r.path.starts_with("/api/v1/blobs/");
    if (!authenticate(r.authorization))
        refused = errorResponse(401, "missing or wrong token (send 'Authorization: Bearer <token>')");
    else if (contentLength > (blob ? kMaxBlobBody : kMaxJsonBody))
        refused = errorResponse(413, "request body is too large");
    if (refused)
        logRefused(r, *refused);
    return refused;
}

namespace {
// A blob upload, written into the blob store as it arrives (hashed on the way); installed by the route
// only when the content hashes to the name it was sent under.
class BlobUpload final : public BodySink {
public:
    explicit BlobUpload(Store::BlobStore& blobs)
        : writer(blobs) {}
    void write(const void* data, std::size_t size) override { writer.write(data, size); }
    Store::BlobStore::Writer writer;
};
} // namespace

std::shared_ptr<BodySink> Service::bodySink(const Request& r) {
    if (r.method == "PUT" && r.path.starts_with("/api/v1/blobs/"))
        return std::make_shared<BlobUpload>(m_d.blobs);
    return nullptr;
}

void Service::handle(const Request& r, Responder reply) {
    Response resp;
    bool deferred = false;
    try {
        auto caller = authenticate(r.authorization);
        if (!caller)
            throw UserError(401, "missing or wrong token (send 'Authorization: Bearer <token>')");
        resp = route(r, *caller, reply, deferred);
    } catch (const UserError& e) {
        resp = errorResponse(e.status(), e.what());
    } catch (const Json::exception& e) {
        resp = errorResponse(400, std::string("invalid request: ") + e.what());
    } catch (const std::exception& e) {
        resp = errorResponse(500, std::string("internal error: ") + e.what());
    }
    if (!deferred) {
        if (resp.status >= 400)
            logRefused(r, resp);
        reply(std::move(resp));
    }
}

void Service::logRefused(const Request& r, const Response& resp) const {
    // One line per refused request (never its headers, body or query: no token can reach the log), at
    // most 20 a second so that a flood of bad requests cannot fill the disk.
    const double now = Util::nowSeconds();
    std::lock_guard g(m_logMutex);
    if (now - m_logWindow >= 1) {
        if (m_logDropped)
            std::cerr << "kilnd: " << m_logDropped << " more refused requests not logged" << std::endl;
        m_logWindow = now;
        m_logLines = 0;
        m_logDropped = 0;
    }
    if (++m_logLines > 20) {
        ++m_logDropped;
        return;
    }
    std::string path = r.path.substr(0, 200);
    for (auto& c : path)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    std::string why;
    try {
        why = Json::parse(resp.body).value("error", std::string());
    } catch (const std::exception&) {
    }
    std::cerr << "kilnd: " << resp.status << " " << r.method.substr(0, 10) << " " << path
              << (why.empty() ? "" : ": " + why.substr(0, 200)) << std::endl;
}

Response Service::blobResponse(const std::string& blob, const Request& r) const {
    Response resp;
    resp.contentType = "application/octet-stream";
    resp.filePath = m_d.blobs.pathOf(blob).string();
    resp.headers["X-Kiln-Sha256"] = blob;
    resp.headers["Accept-Ranges"] = "bytes";
    if (r.range.empty())
        return resp;
    std::error_code ec;
    const auto size = std::filesystem::file_size(resp.filePath, ec);
    if (ec)
        throw UserError(500, "a stored file is missing from the blob store: " + blob);
    bool unsatisfiable = false;
    if (auto range = parseRange(r.range, size, unsatisfiable)) {
        resp.status = 206;
        resp.fileOffset = range->first;
        resp.fileLength = range->last - range->first + 1;
        resp.headers["Content-Range"] = "bytes " + std::to_string(range->first) + "-" +
                                        std::to_string(range->last) + "/" + std::to_string(size);
    } else if (unsatisfiable) {
        auto err = errorResponse(416, "the range " + r.range.substr(0, 100) + " is past the end of the file");
        err.headers["Content-Range"] = "bytes */" + std::to_string(size);
        return err;
    }
    return resp;
}

Json Service::runJson(const Runs::RunRecord& run) {
    auto j = Runs::toJson(run);
    j["datasets"] = m_d.datasets.datasetsOfRun(run.id);
    j["models"] = m_d.models.modelsOfRun(run.id);
    j["rate_limited"] = m_limiter.refusals(run.id);
    if (auto environment = m_d.environments.ofRun(run.id))
        j["environment"] = {{"name", environment->name}, {"version", environment->version}};
    else
        j["environment"] = nullptr;
    return j;
}

std::int64_t Service::submitRun(const Json& body, const Runs::NewRun& trial, bool validateOnly) {
    if (!body.is_object())
        throw badRequest("a run is a JSON object");
    Runs::NewRun n = trial;
    n.experiment = experimentName(body.contains("experiment") ? body["experiment"] : Json());
    auto script =
        Util::safeRelativePath(validName(body.contains("script") ? body["script"] : Json(), "script", 1000));
    if (!script)
        throw badRequest("script must be a relative path inside the source folder, without '..'");
    n.script = *script;
    if (body.contains("name") && !body["name"].is_null())
        n.name = validName(body["name"], "name");
    if (body.contains("args")) {
        if (!body["args"].is_array() || body["args"].size() > 1000)
            throw badRequest("args must be an array of at most 1000 strings");
        for (const auto& a : body["args"]) {
            if (!a.is_string() || a.get<std::string>().size() > 100000 ||
                a.get<std::string>().find('\0') != std::string::npos)
                throw badRequest("every argument must be a string without NUL");
            n.args.push_back(a.get<std::string>());
        }
    }
    // Every dataset the arguments name must exist now: a typo fails the submit, not the run.
    for (const auto& a : n.args)
        for (const auto& ref : Datasets::findDatasetRefs(a))
            if (!m_d.datasets.version(ref.name, ref.version))
                throw badRequest("dataset " + ref.name +
                                 (ref.version ? " version " + std::to_string(ref.version) : std::string()) +
                                 " does not exist (kiln dataset list shows the registered ones)");
    if (body.contains("source_path") && body["source_path"].is_string())
        n.sourcePath = body["source_path"].get<std::string>().substr(0, 4096);
    if (body.contains("compute") && !body["compute"].is_null()) {
        if (!body["compute"].is_string())
            throw badRequest("'compute' is the name of a compute target");
        n.compute = body["compute"].get<std::string>();
    }
    if (body.contains("system_interval") && !body["system_interval"].is_null()) {
        const auto& v = body["system_interval"];
        const double seconds = v.is_number() ? v.get<double>() : -1;
        if (!(seconds == 0 || (seconds >= 0.2 && seconds <= 60)))
            throw badRequest("system_interval is the seconds between system metric samples, 0.2 to 60 "
                             "(0 records none)");
        n.systemInterval = seconds;
    }
    if (!Compute::isValidTargetName(n.compute) || !m_d.compute.get(n.compute))
        throw badRequest("unknown compute target: " + n.compute.substr(0, 100) +
                         " (kiln compute list shows them)");
    if (!body.contains("snapshot"))
        throw badRequest("body needs a 'snapshot' manifest of the source folder");
    auto snap = Runs::Snapshot::fromManifest(body["snapshot"]);
    if (!snap.contains(n.script))
        throw badRequest("script '" + n.script + "' is not in the source folder");
    std::size_t missing = 0;
    for (const auto& f : snap.files)
        missing += (!f.link.empty() || m_d.blobs.has(f.sha256)) ? 0 : 1;
    if (missing)
        throw badRequest(std::to_string(missing) +
                         " snapshot files were not uploaded (PUT /api/v1/blobs/<sha256>)");
    std::optional<Environments::EnvironmentVersion> environment;
    if (body.contains("environment") && !body["environment"].is_null()) {
        if (!body["environment"].is_string())
            throw badRequest("'environment' is NAME or NAME:VERSION");
        environment = resolveEnvironment(body["environment"].get<std::string>());
        if (!environment)
            throw badRequest("environment " + body["environment"].get<std::string>().substr(0, 100) +
                             " does not exist (kiln env list shows them)");
    }
    n.snapshot = snap.hash();
    if (validateOnly)
        return 0;
    m_d.runs.putSnapshot(n.snapshot, snap.manifest().dump());
    const auto id = m_d.runs.createRun(n);
    if (environment)
        m_d.environments.setRunEnvironment(id, environment->id);
    m_d.scheduler.enqueue(id, n.compute);
    m_d.hub.notify(kWorkspaceChannel);
    return id;
}

Response Service::route(const Request& r, const Caller& caller, Responder& reply, bool& deferred) {
    auto seg = splitPath(r.path);
    for (const auto& s : seg)
        if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
            throw badRequest("the request path holds a NUL or control character");
    if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1")
        throw notFound("no such endpoint: " + r.path.substr(0, 200));
    seg.erase(seg.begin(), seg.begin() + 2);
    const auto query = parseQuery(r.query);
    const auto& m = r.method;
    auto is = [&](std::initializer_list<const char*> names) {
        if (seg.size() != names.size())
            return false;
        std::size_t i = 0;
        for (const char* n : names) {
            if (std::string_view(n) != "*" && seg[i] != n)
                return false;
            ++i;
        }
        return true;
    };
    auto methodNotAllowed = [&]() { return errorResponse(405, "method " + m + " not allowed on " + r.path); };

    // Run tokens reach only their own run's write endpoints (and may read the run itself).
    if (!caller.workspace) {
        const bool own = seg.size() >= 2 && seg[0] == "runs" && seg[1] == std::to_string(caller.runId);
        const bool allowed = (own && seg.size() == 2 && m == "GET") ||
                             (own && seg.size() == 3 && m == "POST" &&
                              (seg[2] == "metrics" || seg[2] == "params" || seg[2] == "tags")) ||
                             is({"health"});
        if (!allowed)
            throw UserError(403, "a run token may only write its own run's metrics, params and tags");
    }

    if (is({"health"}))
        return jsonResponse(200,
                            dump({{"ok", true},
                                  {"version", KILN_VERSION},
                                  {"workspace", m_d.workspacePath},
                                  {"read_only", m_d.readOnly.empty() ? Json(nullptr) : Json(m_d.readOnly)},
                                  {"runs", caller.workspace ? m_d.runs.liveCounts() : Json(nullptr)}}));
    if (is({"server", "shutdown"})) {
        if (m != "POST")
            return methodNotAllowed();
        m_d.shutdown();
        return jsonResponse(200, dump({{"ok", true}}));
    }
    if (is({"changes"})) {
        if (m != "GET")
            return methodNotAllowed();
        const auto seen = queryInt(query, "version", -1, -1, std::numeric_limits<std::int64_t>::max());
        const auto timeoutMs = queryInt(query, "timeout_ms", 25000, 0, 60000);
        const auto version = static_cast<std::int64_t>(m_d.hub.version(kWorkspaceChannel));
        if (seen != version || timeoutMs == 0)
            return jsonResponse(200, dump({{"version", version}}));
        deferred = true;
        m_d.hub.wait(kWorkspaceChannel, static_cast<std::uint64_t>(seen),
                     std::chrono::milliseconds(timeoutMs), [this, reply]() {
                         reply(jsonResponse(200, dump({{"version", m_d.hub.version(kWorkspaceChannel)}})));
                     });
        return {};
    }
    if (!seg.empty() && seg[0] == "datasets")
        return routeDatasets(r, seg, query);
    if (!seg.empty() && seg[0] == "compute")
        return routeCompute(r, seg);
    if (!seg.empty() && seg[0] == "environments")
        return routeEnvironments(r, seg);
    if (!seg.empty() && seg[0] == "models")
        return routeModels(r, seg);
    if (!seg.empty() && seg[0] == "sweeps")
        return routeSweeps(r, seg, query);
    if (!seg.empty() && seg[0] == "jobs")
        return routeJobs(r, seg, query, reply, deferred);
    if (is({"workspace", "gc"})) {
        if (m != "POST")
            return methodNotAllowed();
        auto body = r.body.empty() ? Json::object() : parseBody(r.body);
        const auto grace = body.value("grace_seconds", 3600);
        if (grace < 0 || grace > 365 * 24 * 3600)
            throw badRequest("grace_seconds must be between 0 and a year");
        const auto result = Store::collectGarbage(m_d.db, m_d.blobs, std::chrono::seconds(grace));
        return jsonResponse(200, dump({{"removed", result.removed},
                                       {"bytes_freed", result.bytesFreed},
                                       {"kept", result.kept},
                                       {"too_young", result.tooYoung}}));
    }
    if (is({"experiments"}))
        return m == "GET"
                   ? jsonResponse(200, dump(m_d.runs.experiments(queryInt(query, "archived", 0, 0, 1) == 1)))
                   : methodNotAllowed();
    if (is({"experiments", "*"})) {
        if (m != "PATCH")
            return methodNotAllowed();
        return manageExperiment(seg[1], parseBody(r.body));
    }

    if (is({"blobs", "missing"})) {
        if (m != "POST")
            return methodNotAllowed();
        auto body = parseBody(r.body);
        if (!body.contains("hashes") || !body["hashes"].is_array() || body["hashes"].size() > 100000)
            throw badRequest("body needs a 'hashes' array (at most 100000)");
        Json missing = Json::array();
        for (const auto& h : body["hashes"]) {
            if (!h.is_string() || !Util::isSha256Hex(h.get<std::string>()))
                throw badRequest("every hash must be 64 lowercase hex characters");
            if (!m_d.blobs.has(h.get<std::string>()))
                missing.push_back(h);
            else
                m_d.blobs.touch(h.get<std::string>()); // about to be referred to: not garbage
        }
        return jsonResponse(200, dump({{"missing", missing}}));
    }
    if (is({"blobs", "*"})) {
        if (m != "PUT")
            return methodNotAllowed();
        if (!Util::isSha256Hex(seg[1]))
            throw badRequest("not a SHA-256 hash: " + seg[1].substr(0, 80));
        if (auto* upload = dynamic_cast<BlobUpload*>(r.sink.get())) { // streamed in as it arrived
            upload->writer.commit(seg[1]);
            return jsonResponse(201, dump({{"sha256", seg[1]}, {"size", upload->writer.size()}}));
        }
        m_d.blobs.putVerified(r.body, seg[1]);
        return jsonResponse(201, dump({{"sha256", seg[1]}, {"size", r.body.size()}}));
    }

    if (is({"runs"})) {
        if (m == "GET")
            return listRuns(query);
        if (m != "POST")
            return methodNotAllowed();
        const auto id = submitRun(parseBody(r.body), {});
        return jsonResponse(201, dump(runJson(*m_d.runs.run(id))));
    }

    if (is({"runs", "columns"})) {
        if (m != "GET")
            return methodNotAllowed();
        const auto experiment = query.count("experiment") ? query.at("experiment") : std::string();
        return jsonResponse(200, dump(m_d.runs.columns(experiment)));
    }
    if (seg.size() >= 2 && seg[0] == "runs") {
        const auto id = parseId(seg[1], "run");
        if (seg.size() >= 3 && seg[2] == "metrics") { // (many small requests: only what they need of the run)
            const auto live = m_d.runs.liveness(id);
            if (!live)
                throw notFound("no such run: " + std::to_string(id));
            return routeMetrics(r, id, live->status, caller.workspace, seg, query);
        }
        auto run = m_d.runs.run(id);
        if (!run)
            throw notFound("no such run: " + std::to_string(id));
        if (is({"runs", "*"})) {
            if (m == "GET")
                return jsonResponse(200, dump(runJson(*run)));
            if (m == "PATCH")
                return manageRun(*run, parseBody(r.body));
            if (m == "DELETE")
                return deleteRun(*run);
            return methodNotAllowed();
        }
        if (is({"runs", "*", "tags", "*"})) {
            if (m != "DELETE")
                return methodNotAllowed();
            m_d.runs.removeKeys(id, "tags", {seg[3]});
            m_d.hub.notify(id);
            m_d.hub.notify(kWorkspaceChannel);
            return jsonResponse(200, dump(Runs::toJson(*m_d.runs.run(id))));
        }
        if (is({"runs", "*", "cancel"})) {
            if (m != "POST")
                return methodNotAllowed();
            if (!Runs::isTerminal(run->status))
                m_d.scheduler.cancel(id);
            return jsonResponse(202, dump(Runs::toJson(*m_d.runs.run(id))));
        }
        if (is({"runs", "*", "params"}) || is({"runs", "*", "tags"})) {
            if (m != "POST")
                return methodNotAllowed();
            const char* field = seg[2] == "params" ? "params" : "tags";
            m_d.runs.mergeJson(id, field, validStringMap(parseBody(r.body), field));
            m_d.hub.notify(id);
            if (caller.workspace) // a user's tag (not a script's): the studio's lists show it
                m_d.hub.notify(kWorkspaceChannel);
            return jsonResponse(200, dump(Runs::toJson(*m_d.runs.run(id))));
        }
        if (is({"runs", "*", "logs"})) {
            if (m != "GET")
                return methodNotAllowed();
            auto after = queryInt(query, "after", 0, 0, std::numeric_limits<std::int64_t>::max());
            auto limit = queryInt(query, "limit", 10000, 1, 100000);
            Json lines = Json::array();
            std::int64_t last = after;
            for (const auto& l : m_d.runs.logsAfter(id, after, limit)) {
                lines.push_back({{"id", l.id}, {"stream", l.stream}, {"line", l.line}, {"ts", l.ts}});
                last = l.id;
            }
            return jsonResponse(200, dump({{"lines", lines}, {"cursor", last}}));
        }
        if (is({"runs", "*", "snapshot"})) {
            if (m != "GET")
                return methodNotAllowed();
            auto manifest = m_d.runs.snapshot(run->snapshot);
            if (!manifest)
                throw notFound("run " + std::to_string(id) + " has no stored snapshot");
            return jsonResponse(200, *manifest);
        }
        if (is({"runs", "*", "files"})) {
            if (m != "GET")
                return methodNotAllowed();
            Json out = Json::array();
            for (const auto& f : m_d.runs.files(id))
                out.push_back({{"path", f.path}, {"sha256", f.blob}, {"size", f.size}});
            return jsonResponse(200, dump(out));
        }
        if (seg.size() >= 4 && seg[2] == "files") {
            if (m != "GET")
                return methodNotAllowed();
            const auto path = relativePathFrom(seg, 3, "run");
            for (const auto& f : m_d.runs.files(id))
                if (f.path == path)
                    return blobResponse(f.blob, r);
            throw notFound("run " + std::to_string(id) + " has no file " + path);
        }
        if (is({"runs", "*", "feed"})) {
            if (m != "GET")
                return methodNotAllowed();
            const auto metricsAfter =
                queryInt(query, "metrics_after", 0, 0, std::numeric_limits<std::int64_t>::max());
            const auto logsAfter =
                queryInt(query, "logs_after", 0, 0, std::numeric_limits<std::int64_t>::max());
            const auto statusSeq =
                queryInt(query, "status_seq", 0, 0, std::numeric_limits<std::int64_t>::max());
            const auto timeoutMs = queryInt(query, "timeout_ms", 25000, 0, 60000);
            auto build = [this, id, metricsAfter, logsAfter, statusSeq](bool& any) {
                auto run = m_d.runs.run(id);
                Json out;
                std::int64_t metricCursor = metricsAfter, logCursor = logsAfter;
                Json metrics = Json::object();
                for (auto& [key, s] : m_d.metrics.after(id, metricsAfter, 50000)) {
                    metricCursor = std::max(metricCursor, s.ids.back());
                    metrics[key] = Metrics::toJson(s);
                }
                Json lines = Json::array();
                for (const auto& l : m_d.runs.logsAfter(id, logsAfter, 10000)) {
                    lines.push_back({{"id", l.id}, {"stream", l.stream}, {"line", l.line}, {"ts", l.ts}});
                    logCursor = l.id;
                }
                any = !metrics.empty() || !lines.empty() || run->statusSeq != statusSeq;
                out["run"] = runJson(*run);
                out["metrics"] = std::move(metrics);
                out["logs"] = std::move(lines);
                out["cursor"] = {{"metrics_after", metricCursor},
                                 {"logs_after", logCursor},
                                 {"status_seq", run->statusSeq}};
                return jsonResponse(200, dump(out));
            };
            const auto version = m_d.hub.version(id);
            bool any = false;
            auto now = build(any);
            if (any || timeoutMs == 0)
                return now;
            deferred = true;
            m_d.hub.wait(id, version, std::chrono::milliseconds(timeoutMs), [build, reply]() {
                bool unused = false;
                try {
                    reply(build(unused));
                } catch (const std::exception& e) {
                    reply(errorResponse(500, std::string("internal error: ") + e.what()));
                }
            });
            return {};
        }
    }
    throw notFound("no such endpoint: " + m + " " + r.path.substr(0, 200));
}

} // namespace Kiln::Api
