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
#include "server/WorkQueue.h"
#include "store/BlobStore.h"
#include "store/Database.h"
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
#include <sys/statvfs.h>

namespace Kiln::Api {

using Runs::RunStatus;

Service::Service(Deps deps)
    : m_d(std::move(deps))
    , m_limiter(m_d.maxPointsPerSecond)
    , m_slowLane(std::make_unique<Server::WorkQueue>(2))
    , m_replays(m_d.db) {}

Service::~Service() = default;

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

Service::Resolved Service::resolve(const Request& r, const Caller& caller) const {
    Resolved out;
    const auto seg = splitPath(r.path);
    for (const auto& s : seg)
        if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
            out.refusal = errorResponse(400, "the request path holds a NUL or control character");
            return out;
        }
    auto match = m_router.find(r.method, seg);
    if (!match.route) {
        if (match.allow.empty()) {
            out.refusal = errorResponse(404, "no such endpoint: " + r.method.substr(0, 10) + " " +
                                                 r.path.substr(0, 200));
        } else {
            out.refusal = errorResponse(405, "method " + r.method.substr(0, 10) + " not allowed on " +
                                                 r.path.substr(0, 200) + " (it takes " + match.allow + ")");
            out.refusal->headers["Allow"] = match.allow;
        }
        return out;
    }
    // Who may call it: the workspace token anything; a run token what the route lets run tokens do, and on
    // a route about a run, only its own run.
    if (!caller.workspace) {
        const auto id = match.params.find("id");
        if (!(match.route->callers & kOwnRun) ||
            (id != match.params.end() && id->second != std::to_string(caller.runId))) {
            out.refusal =
                errorResponse(403, "a run token may only write its own run's metrics, params and tags");
            return out;
        }
    }
    out.route = match.route;
    out.params = std::move(match.params);
    return out;
}

Service::Admission Service::precheck(const Request& r, std::optional<std::uint64_t> contentLength) const {
    Admission a;
    const auto caller = authenticate(r.authorization);
    if (!caller) {
        a.refusal = errorResponse(401, "missing or wrong token (send 'Authorization: Bearer <token>')");
    } else {
        auto resolved = resolve(r, *caller);
        if (resolved.refusal) {
            a.refusal = std::move(resolved.refusal);
        } else {
            a.body = resolved.route->body;
            a.limit = resolved.route->limit;
            if (contentLength && *contentLength > a.limit)
                a.refusal = errorResponse(413, "request body is too large (" + std::string(r.method) + " " +
                                                   std::string(resolved.route->pattern) + " takes at most " +
                                                   std::to_string(a.limit >> 10) + " KB)");
        }
    }
    if (a.refusal)
        logRefused(r, *a.refusal);
    return a;
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

std::shared_ptr<BodySink> Service::bodySink(const Request&) {
    return std::make_shared<BlobUpload>(m_d.blobs); // (the one Body::Blob route: PUT /blobs/{sha256})
}

void Service::handle(const Request& r, Responder reply) {
    const Route* route = nullptr;
    Caller caller;
    std::map<std::string, std::string, std::less<>> params;
    Response refused;
    try {
        const auto who = authenticate(r.authorization);
        if (!who)
            throw UserError(401, "missing or wrong token (send 'Authorization: Bearer <token>')");
        caller = *who;
        auto resolved = resolve(r, caller);
        if (resolved.refusal)
            refused = std::move(*resolved.refusal);
        route = resolved.route;
        params = std::move(resolved.params);
    } catch (const std::exception& e) {
        refused = failure(e);
    }
    if (!route) {
        logRefused(r, refused);
        return reply(std::move(refused));
    }
    if (route->lane == Lane::Slow) { // a long read: on the slow lane's threads, answered from there
        m_slowLane->post([this, route, caller, params = std::move(params),
                          request = std::make_shared<Request>(r), reply = std::move(reply)]() mutable {
            run(*route, *request, caller, std::move(params), std::move(reply));
        });
        return;
    }
    run(*route, r, caller, std::move(params), std::move(reply));
}

Response Service::failure(const std::exception& e) {
    if (const auto* user = dynamic_cast<const UserError*>(&e))
        return errorResponse(user->status(), user->what());
    if (dynamic_cast<const Json::exception*>(&e))
        return errorResponse(400, std::string("invalid request: ") + e.what());
    return errorResponse(500, std::string("internal error: ") + e.what());
}

namespace {
Response notKept() {
    Response r;
    r.status = 0;
    return r;
}
} // namespace

void Service::run(const Route& route, const Request& r, const Caller& caller,
                  std::map<std::string, std::string, std::less<>> params, Responder reply) {
    Response resp;
    bool deferred = false;
    // A change sent with an Idempotency-Key: a repeat (its answer was lost) gets the first answer.
    std::string replayKey;
    if (!r.idempotencyKey.empty() && route.method != std::string_view("GET")) {
        const auto& key = r.idempotencyKey;
        if (key.size() > Replays::kMaxKey ||
            std::any_of(key.begin(), key.end(), [](unsigned char ch) { return ch < 0x21 || ch > 0x7e; }))
            return reply(
                errorResponse(400, "the Idempotency-Key header must be 1 to 200 visible ASCII characters"));
        replayKey = (caller.workspace ? std::string("w:") : "r" + std::to_string(caller.runId) + ":") + key;
        switch (m_replays.begin(replayKey, r.method, r.path, resp)) {
        case Replays::Found::Replay:
            return reply(std::move(resp));
        case Replays::Found::InFlight:
            resp = errorResponse(409, "a request with this Idempotency-Key is still being answered; send it "
                                      "again in a moment");
            resp.headers["Retry-After"] = "1";
            return reply(std::move(resp));
        case Replays::Found::OtherRequest:
            return reply(errorResponse(422, "this Idempotency-Key was used for another request (" + r.method +
                                                " " + r.path.substr(0, 200) + " is not it); use a new key"));
        case Replays::Found::No:
            break;
        }
    }
    try {
        Call call{r, caller.workspace, caller.runId, std::move(params), parseQuery(r.query), reply};
        resp = (this->*route.handler)(call);
        deferred = call.deferred;
    } catch (const std::exception& e) {
        resp = failure(e);
    }
    if (!replayKey.empty()) // kept when it succeeded (a deferred answer is not): the key is free again
        m_replays.finish(replayKey, r.method, r.path, deferred ? notKept() : resp);
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
            if (!m_d.datasets.version(ref.name, ref.version)) {
                // Say what there is, and how to add one.
                std::string names;
                int shown = 0;
                for (const auto& d : m_d.datasets.list())
                    if (shown++ < 10)
                        names += (names.empty() ? "" : ", ") + d.value("name", std::string());
                const bool named = m_d.datasets.version(ref.name, 0).has_value();
                throw badRequest(
                    "dataset " + ref.name +
                    (ref.version ? " version " + std::to_string(ref.version) : std::string()) +
                    " does not exist" +
                    (named ? " (kiln dataset show " + ref.name + " lists its versions)"
                           : (names.empty() ? std::string(" (the workspace has no dataset yet")
                                            : " (the workspace has: " + names + (shown > 10 ? ", ..." : "")) +
                                 "; register one with: kiln dataset register --name " + ref.name +
                                 " --path FOLDER)"));
            }
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

Runs::RunRecord Service::runOf(const Call& c) {
    const auto id = c.id("run");
    auto run = m_d.runs.run(id);
    if (!run)
        throw notFound("no such run: " + std::to_string(id));
    return std::move(*run);
}

Response Service::health(Call& c) {
    // Read-only: started so (a full disk), or refusing writes now because the disk is full (a write failed
    // for space in the last 10 s, or less than 1 MB is left).
    std::string readOnly = m_d.readOnly;
    if (struct statvfs st{};
        readOnly.empty() && (Store::secondsSinceDiskFull() < 10 ||
                             (::statvfs(m_d.workspacePath.c_str(), &st) == 0 &&
                              static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize < (1u << 20))))
        readOnly = "the workspace's disk is full: writes are refused until there is space again";
    return jsonResponse(200, dump({{"ok", true},
                                   {"version", KILN_VERSION},
                                   {"workspace", m_d.workspacePath},
                                   {"read_only", readOnly.empty() ? Json(nullptr) : Json(readOnly)},
                                   {"runs", c.workspace ? m_d.runs.liveCounts() : Json(nullptr)}}));
}

Response Service::shutdownServer(Call&) {
    m_d.shutdown();
    return jsonResponse(200, dump({{"ok", true}}));
}

Response Service::changes(Call& c) {
    return longPoll(c, kWorkspaceChannel);
}

Response Service::longPoll(Call& c, std::int64_t channel) {
    const auto seen = queryInt(c.query, "version", -1, -1, std::numeric_limits<std::int64_t>::max());
    const auto timeoutMs = queryInt(c.query, "timeout_ms", 25000, 0, 60000);
    const auto version = static_cast<std::int64_t>(m_d.hub.version(channel));
    if (seen != version || timeoutMs == 0)
        return jsonResponse(200, dump({{"version", version}}));
    c.deferred = true;
    m_d.hub.wait(channel, static_cast<std::uint64_t>(seen), std::chrono::milliseconds(timeoutMs),
                 [this, channel, reply = c.reply]() {
                     reply(jsonResponse(200, dump({{"version", m_d.hub.version(channel)}})));
                 });
    return {};
}

Response Service::collectGarbage(Call& c) {
    auto body = c.request.body.empty() ? Json::object() : parseBody(c.request.body);
    const auto grace = body.value("grace_seconds", 3600);
    if (grace < 0 || grace > 365 * 24 * 3600)
        throw badRequest("grace_seconds must be between 0 and a year");
    const auto result = Store::collectGarbage(m_d.db, m_d.blobs, std::chrono::seconds(grace));
    return jsonResponse(200, dump({{"removed", result.removed},
                                   {"bytes_freed", result.bytesFreed},
                                   {"kept", result.kept},
                                   {"too_young", result.tooYoung}}));
}

Response Service::missingBlobs(Call& c) {
    auto body = parseBody(c.request.body);
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

Response Service::putBlob(Call& c) {
    const auto& sha = c.param("sha256");
    if (!Util::isSha256Hex(sha))
        throw badRequest("not a SHA-256 hash: " + sha.substr(0, 80));
    if (auto* upload = dynamic_cast<BlobUpload*>(c.request.sink.get())) { // streamed in as it arrived
        upload->writer.commit(sha);
        return jsonResponse(201, dump({{"sha256", sha}, {"size", upload->writer.size()}}));
    }
    m_d.blobs.putVerified(c.request.body, sha);
    return jsonResponse(201, dump({{"sha256", sha}, {"size", c.request.body.size()}}));
}

Response Service::submit(Call& c) {
    const auto id = submitRun(parseBody(c.request.body), {});
    return jsonResponse(201, dump(runJson(*m_d.runs.run(id))));
}

Response Service::getRun(Call& c) {
    return jsonResponse(200, dump(runJson(runOf(c))));
}

Response Service::cancelRun(Call& c) {
    const auto run = runOf(c);
    if (!Runs::isTerminal(run.status))
        m_d.scheduler.cancel(run.id);
    return jsonResponse(202, dump(Runs::toJson(*m_d.runs.run(run.id))));
}

Response Service::mergeParamsOrTags(Call& c) {
    const auto id = runOf(c).id;
    const char* field = c.request.path.ends_with("/params") ? "params" : "tags";
    m_d.runs.mergeJson(id, field, validStringMap(parseBody(c.request.body), field));
    m_d.hub.notify(id);
    if (c.workspace) // a user's tag (not a script's): the studio's lists show it
        m_d.hub.notify(kWorkspaceChannel);
    return jsonResponse(200, dump(Runs::toJson(*m_d.runs.run(id))));
}

Response Service::deleteTag(Call& c) {
    const auto id = runOf(c).id;
    m_d.runs.removeKeys(id, "tags", {c.param("key")});
    m_d.hub.notify(id);
    m_d.hub.notify(kWorkspaceChannel);
    return jsonResponse(200, dump(Runs::toJson(*m_d.runs.run(id))));
}

Response Service::runLogs(Call& c) {
    const auto id = runOf(c).id;
    auto after = queryInt(c.query, "after", 0, 0, std::numeric_limits<std::int64_t>::max());
    auto limit = queryInt(c.query, "limit", 10000, 1, 100000);
    Json lines = Json::array();
    std::int64_t last = after;
    for (const auto& l : m_d.runs.logsAfter(id, after, limit)) {
        lines.push_back({{"id", l.id}, {"stream", l.stream}, {"line", l.line}, {"ts", l.ts}});
        last = l.id;
    }
    return jsonResponse(200, dump({{"lines", lines}, {"cursor", last}}));
}

Response Service::runSnapshot(Call& c) {
    const auto run = runOf(c);
    auto manifest = m_d.runs.snapshot(run.snapshot);
    if (!manifest)
        throw notFound("run " + std::to_string(run.id) + " has no stored snapshot");
    return jsonResponse(200, *manifest);
}

Response Service::runFiles(Call& c) {
    Json out = Json::array();
    for (const auto& f : m_d.runs.files(runOf(c).id))
        out.push_back({{"path", f.path}, {"sha256", f.blob}, {"size", f.size}});
    return jsonResponse(200, dump(out));
}

Response Service::runFile(Call& c) {
    const auto id = runOf(c).id;
    const auto path = relativePath(c.param("path"), "run");
    for (const auto& f : m_d.runs.files(id))
        if (f.path == path)
            return blobResponse(f.blob, c.request);
    throw notFound("run " + std::to_string(id) + " has no file " + path);
}

Response Service::runFeed(Call& c) {
    const auto id = runOf(c).id;
    const auto& query = c.query;
    const auto metricsAfter =
        queryInt(query, "metrics_after", 0, 0, std::numeric_limits<std::int64_t>::max());
    const auto logsAfter = queryInt(query, "logs_after", 0, 0, std::numeric_limits<std::int64_t>::max());
    const auto statusSeq = queryInt(query, "status_seq", 0, 0, std::numeric_limits<std::int64_t>::max());
    const auto timeoutMs = queryInt(query, "timeout_ms", 25000, 0, 60000);
    auto build = [this, id, metricsAfter, logsAfter, statusSeq](bool& any) {
        auto run = m_d.runs.run(id);
        if (!run) // (deleted while a long-poll waited)
            throw notFound("no such run: " + std::to_string(id));
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
        out["cursor"] = {
            {"metrics_after", metricCursor}, {"logs_after", logCursor}, {"status_seq", run->statusSeq}};
        return jsonResponse(200, dump(out));
    };
    const auto version = m_d.hub.version(id);
    bool any = false;
    auto now = build(any);
    if (any || timeoutMs == 0)
        return now;
    c.deferred = true;
    m_d.hub.wait(id, version, std::chrono::milliseconds(timeoutMs), [build, reply = c.reply]() {
        bool unused = false;
        try {
            reply(build(unused));
        } catch (const UserError& e) {
            reply(errorResponse(e.status(), e.what()));
        } catch (const std::exception& e) {
            reply(errorResponse(500, std::string("internal error: ") + e.what()));
        }
    });
    return {};
}

} // namespace Kiln::Api
