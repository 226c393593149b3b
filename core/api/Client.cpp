#include "Client.h"

#include <charconv>

#include "api/Http.h"
#include "runs/Snapshot.h"
#include "util/Crypto.h"
#include "util/Fs.h"

#include <cpprest/filestream.h>
#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>
#include <mutex>
#include <thread>
#include <tuple>

namespace fs = std::filesystem;

namespace Kiln::Api {

using namespace web::http;
using web::http::client::http_client;
using web::http::client::http_client_config;

struct Client::Impl {
    std::unique_ptr<http_client> http;
    std::string token;
    std::mutex mutex;
    pplx::cancellation_token_source cancel;

    pplx::cancellation_token currentToken() {
        std::lock_guard g(mutex);
        return cancel.get_token();
    }

    // Sends a request with the token and waits for the answer's headers (`prepare` adds to the request).
    http_response send(const method& m, const std::string& path, const std::string* body,
                       const std::string& contentType = "application/json", const std::string& accept = {},
                       const std::function<void(http_request&)>& prepare = {}) {
        http_request req(m);
        try {
            req.set_request_uri(path);
        } catch (const std::exception& e) {
            throw ClientError(0, "not a valid request path: " + path.substr(0, 200));
        }
        req.headers().add(header_names::authorization, "Bearer " + token);
        if (!accept.empty())
            req.headers().add(header_names::accept, accept);
        if (body)
            req.set_body(*body, contentType);
        if (prepare)
            prepare(req);
        try {
            return http->request(req, currentToken()).get();
        } catch (const pplx::task_canceled&) {
            throw ClientError(0, "request canceled");
        } catch (const std::exception& e) {
            throw ClientError(0, std::string("cannot reach kilnd at ") + http->base_uri().to_string() + ": " +
                                     e.what());
        }
    }

    // GETs `path` in the binary column format; `header`, when there is a `value` to fill, is read as a
    // number.
    Metrics::Columns columns(const std::string& path, const char* header, std::int64_t* value) {
        auto resp = send(methods::GET, path, nullptr, {}, std::string(Metrics::kBinaryType));
        if (resp.status_code() >= 400)
            parse(resp); // throws with the server's message
        if (value) {
            *value = 0;
            if (resp.headers().has(header)) {
                const auto text = resp.headers()[header];
                std::from_chars(text.data(), text.data() + text.size(), *value);
            }
        }
        // Read in large chunks into one buffer (extract_utf8string grows its copy a piece at a time: 5x
        // slower).
        std::string body;
        try {
            body.reserve(resp.headers().content_length());
            auto stream = resp.body().streambuf();
            std::vector<std::uint8_t> chunk(1 << 20);
            while (const auto n = stream.getn(chunk.data(), chunk.size()).get())
                body.append(reinterpret_cast<const char*>(chunk.data()), n);
        } catch (const std::exception& e) {
            throw ClientError(0, std::string("connection lost while reading the answer: ") + e.what());
        }
        std::optional<Metrics::BatchId> none;
        try {
            return Metrics::decode(body, none);
        } catch (const std::invalid_argument& e) {
            throw ClientError(resp.status_code(),
                              std::string("kilnd answered metrics that do not decode: ") + e.what());
        }
    }

    static Json parse(http_response& resp) {
        std::string text;
        try {
            text = resp.extract_utf8string(true).get();
        } catch (const std::exception& e) {
            throw ClientError(0, std::string("connection lost while reading the answer: ") + e.what());
        }
        Json j;
        try {
            j = text.empty() ? Json() : Json::parse(text);
        } catch (const std::exception&) {
            throw ClientError(resp.status_code(),
                              "kilnd answered something that is not JSON: " + text.substr(0, 200));
        }
        if (resp.status_code() >= 400) {
            std::string msg = j.is_object() && j.contains("error") && j["error"].is_string()
                                  ? j["error"].get<std::string>()
                                  : "HTTP " + std::to_string(resp.status_code());
            throw ClientError(resp.status_code(), msg);
        }
        return j;
    }
};

static std::mutex g_caMutex;
static std::string g_defaultCa;

void Client::setDefaultCaFile(const std::string& caFile) {
    std::lock_guard g(g_caMutex);
    g_defaultCa = caFile;
}

Client::Client(std::string url, std::string token, std::chrono::seconds timeout, std::string caFile)
    : m_impl(std::make_unique<Impl>())
    , m_url(std::move(url)) {
    http_client_config config;
    if (m_url.starts_with("https://")) {
        if (caFile.empty()) {
            std::lock_guard g(g_caMutex);
            caFile = g_defaultCa;
        }
        if (caFile.empty())
            if (const char* env = std::getenv("KILN_CA_FILE"); env && *env)
                caFile = env;
        config.set_validate_certificates(true);
        if (!caFile.empty())
            config.set_ssl_context_callback(
                [caFile](boost::asio::ssl::context& ctx) { ctx.load_verify_file(caFile); });
    }
    config.set_timeout(timeout);
    config.set_chunksize(1 << 20); // fewer, larger socket reads: downloads run several times faster
    m_impl->http = std::make_unique<http_client>(web::uri(m_url), config);
    m_impl->token = std::move(token);
}

Client::~Client() = default;

Json Client::get(const std::string& path) {
    auto resp = m_impl->send(methods::GET, path, nullptr);
    return Impl::parse(resp);
}

Json Client::post(const std::string& path, const Json& body) {
    const auto text = body.dump();
    auto resp = m_impl->send(methods::POST, path, &text);
    return Impl::parse(resp);
}

Json Client::request(const std::string& method, const std::string& path, const Json& body) {
    const auto text = body.is_null() ? std::string() : body.dump();
    auto resp = m_impl->send(method, path, body.is_null() ? nullptr : &text);
    return Impl::parse(resp);
}

Json Client::putBytes(const std::string& path, const std::string& bytes) {
    auto resp = m_impl->send(methods::PUT, path, &bytes, "application/octet-stream");
    return Impl::parse(resp);
}

std::pair<Json, std::int64_t> Client::queryRuns(const std::string& query) {
    auto resp = m_impl->send(methods::GET, "/api/v1/runs?" + query, nullptr);
    auto runs = Impl::parse(resp);
    std::int64_t total = runs.is_array() ? static_cast<std::int64_t>(runs.size()) : 0;
    if (resp.headers().has(U("X-Total-Count"))) {
        const auto header = resp.headers()[U("X-Total-Count")];
        std::from_chars(header.data(), header.data() + header.size(), total); // else: this page's size
    }
    return {std::move(runs), total};
}

std::pair<int, std::string> Client::raw(const std::string& method, const std::string& path,
                                        const std::string& body, const std::string& contentType) {
    auto resp = m_impl->send(method, path, body.empty() ? nullptr : &body, contentType);
    return {resp.status_code(), resp.extract_utf8string(true).get()};
}

bool Client::logMetrics(std::int64_t runId, const Metrics::Columns& points, int attempts) {
    if (m_metricClient.empty())
        m_metricClient = "cpp-" + Util::randomHex(12);
    const auto body = Metrics::encode(points, Metrics::BatchId{m_metricClient, ++m_metricSeq});
    const auto path = "/api/v1/runs/" + std::to_string(runId) + "/metrics";
    const std::string type(Metrics::kBinaryType);
    for (int attempt = 1;; ++attempt) {
        int status = 0;
        std::string answer;
        try {
            std::tie(status, answer) = raw("POST", path, body, type);
        } catch (const std::exception& e) { // no connection, or the reply was lost
            answer = e.what();
        }
        if (status == 200)
            return !Json::parse(answer).value("duplicate", false);
        if ((status != 0 && status != 429 && status < 500) || attempt >= attempts)
            throw ClientError(status,
                              "logging metrics to run " + std::to_string(runId) + " failed: " + answer);
        // Short waits: a restarting kilnd answers again within a second, and a batch waits in between.
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(400, 25 << std::min(attempt, 4))));
    }
}

Metrics::Columns Client::history(std::int64_t runId, const std::string& key) {
    return history(runId, key, std::nullopt, std::nullopt, 0);
}

Metrics::Columns Client::history(std::int64_t runId, const std::string& key, std::optional<double> from,
                                 std::optional<double> to, int buckets, std::int64_t* total) {
    auto path = "/api/v1/runs/" + std::to_string(runId) + "/metrics/history?key=" + percentEncode(key);
    const auto number = [](double v) {
        char text[32];
        const auto [end, ec] = std::to_chars(text, text + sizeof text, v); // shortest exact form
        return std::string(text, end);
    };
    if (buckets > 0) {
        path += "&buckets=" + std::to_string(buckets);
        if (from)
            path += "&from=" + number(*from);
        if (to)
            path += "&to=" + number(*to);
    }
    return m_impl->columns(path, "X-Total-Count", total);
}

Metrics::Columns Client::overview(std::int64_t runId, int buckets, std::int64_t* total) {
    return m_impl->columns("/api/v1/runs/" + std::to_string(runId) +
                               "/metrics/history?buckets=" + std::to_string(buckets),
                           "X-Total-Count", total);
}

Metrics::Columns Client::allMetrics(std::int64_t runId, std::int64_t& cursor) {
    return m_impl->columns("/api/v1/runs/" + std::to_string(runId) + "/metrics/history", "X-Metrics-Cursor",
                           &cursor);
}

std::uint64_t Client::stream(const std::string& path, std::uint64_t first, std::optional<std::uint64_t> last,
                             const std::function<bool(const std::uint8_t*, std::size_t)>& sink) {
    const bool ranged = first > 0 || last;
    auto resp = m_impl->send(methods::GET, path, nullptr, {}, {}, [&](http_request& req) {
        if (ranged)
            req.headers().add(header_names::range, "bytes=" + std::to_string(first) + "-" +
                                                       (last ? std::to_string(*last) : std::string()));
    });
    if (resp.status_code() >= 400)
        Impl::parse(resp); // throws with the server's message
    if (ranged && resp.status_code() != status_codes::PartialContent)
        throw ClientError(resp.status_code(),
                          "the server does not answer range requests for " + path.substr(0, 200));
    std::uint64_t received = 0;
    std::vector<std::uint8_t> chunk(1 << 20);
    auto body = resp.body().streambuf();
    try {
        for (;;) {
            const auto n = body.getn(chunk.data(), chunk.size()).get();
            if (n == 0)
                break;
            received += n;
            if (!sink(chunk.data(), n))
                return received;
        }
    } catch (const ClientError&) {
        throw;
    } catch (const std::exception& e) {
        throw ClientError(0, std::string("connection lost during the transfer: ") + e.what());
    }
    return received;
}

std::uint64_t Client::fetchRange(const std::string& path, std::uint64_t first, std::uint64_t last,
                                 std::uint8_t* into) {
    const auto capacity = static_cast<std::size_t>(last - first + 1);
    concurrency::streams::rawptr_buffer<std::uint8_t> buffer(into, capacity, std::ios::out);
    auto resp = m_impl->send(methods::GET, path, nullptr, {}, {}, [&](http_request& req) {
        req.headers().add(header_names::range, "bytes=" + std::to_string(first) + "-" + std::to_string(last));
        req.set_response_stream(concurrency::streams::ostream(buffer));
    });
    bool complete = true;
    try {
        resp.content_ready().get();
    } catch (const pplx::task_canceled&) {
        throw ClientError(0, "request canceled");
    } catch (const std::exception&) {
        complete = false; // dropped: what came is kept
    }
    const auto pos = buffer.getpos(std::ios::out);
    const auto got =
        pos < 0 ? (complete ? resp.headers().content_length() : 0) : static_cast<std::uint64_t>(pos);
    if (resp.status_code() >= 400) { // (its JSON body came into `into`)
        std::string message = "HTTP " + std::to_string(resp.status_code());
        try {
            const auto j = Json::parse(
                std::string(reinterpret_cast<const char*>(into), std::min<std::uint64_t>(got, capacity)));
            if (j.is_object() && j.contains("error") && j["error"].is_string())
                message = j["error"].get<std::string>();
        } catch (const std::exception&) {
        }
        throw ClientError(resp.status_code(), message);
    }
    if (resp.status_code() != status_codes::PartialContent)
        throw ClientError(resp.status_code(),
                          "the server does not answer range requests for " + path.substr(0, 200));
    return std::min<std::uint64_t>(got, capacity);
}

void Client::cancelPending() {
    std::lock_guard g(m_impl->mutex);
    m_impl->cancel.cancel();
    m_impl->cancel = pplx::cancellation_token_source();
}

Json Client::uploadSnapshot(const std::filesystem::path& sourceDir, std::vector<std::string>& warnings) {
    auto snap = Runs::Snapshot::scan(sourceDir);
    warnings = snap.warnings;
    Json hashes = Json::array();
    for (const auto& f : snap.files)
        if (f.link.empty())
            hashes.push_back(f.sha256);
    auto missing = post("/api/v1/blobs/missing", {{"hashes", hashes}})["missing"];
    for (const auto& h : missing) {
        for (const auto& f : snap.files) {
            if (f.link.empty() && f.sha256 == h.get<std::string>()) {
                putBytes("/api/v1/blobs/" + f.sha256, Util::readFile(f.source));
                break;
            }
        }
    }
    return snap.manifest();
}

Json Client::submit(const SubmitRequest& request) {
    Json manifest = request.snapshot;
    std::vector<std::string> warnings;
    if (manifest.is_null())
        manifest = uploadSnapshot(request.sourceDir, warnings);
    Json body = {{"experiment", request.experiment},
                 {"script", request.script},
                 {"args", request.args},
                 {"source_path", !request.sourcePath.empty() ? request.sourcePath
                                 : request.sourceDir.empty() ? std::string()
                                                             : fs::absolute(request.sourceDir).string()},
                 {"snapshot", manifest}};
    if (!request.name.empty())
        body["name"] = request.name;
    if (!request.environment.empty())
        body["environment"] = request.environment;
    if (!request.compute.empty())
        body["compute"] = request.compute;
    if (request.systemInterval)
        body["system_interval"] = *request.systemInterval;
    auto run = post("/api/v1/runs", body);
    run["warnings"] = warnings; // what the snapshot left out, for the user
    return run;
}

Json Client::waitJob(std::int64_t jobId, const std::function<void(const Json&)>& onProgress) {
    std::int64_t version = -1;
    for (;;) {
        auto job = get("/api/v1/jobs/" + std::to_string(jobId) + "?version=" + std::to_string(version) +
                       "&timeout_ms=20000");
        version = job["version"].get<std::int64_t>();
        if (onProgress)
            onProgress(job);
        const auto state = job["state"].get<std::string>();
        if (state == "succeeded")
            return job["result"];
        if (state != "running")
            throw ClientError(job.value("error_status", 500), job["error"].get<std::string>());
    }
}

Json Client::run(std::int64_t id) {
    return get("/api/v1/runs/" + std::to_string(id));
}

Json Client::runAgain(std::int64_t id) {
    const auto base = "/api/v1/runs/" + std::to_string(id);
    const auto original = get(base);
    SubmitRequest req;
    req.experiment = original["experiment"].get<std::string>();
    req.script = original["script"].get<std::string>();
    req.args = original["args"].get<std::vector<std::string>>();
    req.compute = original["compute"].get<std::string>();
    if (original.contains("system_interval") && original["system_interval"].is_number())
        req.systemInterval = original["system_interval"].get<double>();
    if (original["environment"].is_object())
        req.environment = original["environment"]["name"].get<std::string>() + ":" +
                          std::to_string(original["environment"]["version"].get<int>());
    req.snapshot = get(base + "/snapshot");
    req.sourcePath = original.value("source_path", std::string());
    return submit(req);
}

Json Client::feed(std::int64_t runId, const FeedCursor& c, int timeoutMs) {
    return get("/api/v1/runs/" + std::to_string(runId) + "/feed?metrics_after=" +
               std::to_string(c.metricsAfter) + "&logs_after=" + std::to_string(c.logsAfter) +
               "&status_seq=" + std::to_string(c.statusSeq) + "&timeout_ms=" + std::to_string(timeoutMs));
}

void Client::follow(std::int64_t runId, const std::function<bool(const Json&)>& onFeed, FeedCursor cursor) {
    bool ended = false;
    for (;;) {
        auto f = feed(runId, cursor, ended ? 0 : 20000);
        cursor.metricsAfter = f["cursor"]["metrics_after"];
        cursor.logsAfter = f["cursor"]["logs_after"];
        cursor.statusSeq = f["cursor"]["status_seq"];
        if (!onFeed(f))
            return;
        const auto status = f["run"]["status"].get<std::string>();
        ended = status == "Completed" || status == "Failed" || status == "Canceled";
        // Once ended, drain what is left (a feed answer is capped), then stop.
        if (ended && f["logs"].empty() && f["metrics"].empty())
            return;
    }
}

} // namespace Kiln::Api
