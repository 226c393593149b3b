#include "SlurmClient.h"

#include "util/Error.h"

#include <cpprest/http_client.h>

namespace Kiln::Compute {

using namespace web::http;

struct SlurmClient::Impl {
    std::unique_ptr<client::http_client> http;
    std::string url;
    std::string user;
    std::string token;
};

SlurmClient::SlurmClient(std::string url, std::string user, std::string token)
    : m_impl(std::make_unique<Impl>()) {
    if (!(url.starts_with("http://") || url.starts_with("https://")))
        throw badRequest("the slurmrestd URL must start with http:// or https://");
    client::http_client_config config;
    config.set_timeout(std::chrono::seconds(15));
    try {
        m_impl->http = std::make_unique<client::http_client>(web::uri(url), config);
    } catch (const std::exception&) {
        throw badRequest("not a valid slurmrestd URL: " + url.substr(0, 200));
    }
    m_impl->url = std::move(url);
    m_impl->user = std::move(user);
    m_impl->token = std::move(token);
}

SlurmClient::~SlurmClient() = default;

Json SlurmClient::request(const std::string& method, const std::string& path, const Json* body) {
    http_request req(method);
    req.set_request_uri("/slurm/" + std::string(kSlurmApi) + path);
    req.headers().add("X-SLURM-USER-NAME", m_impl->user);
    req.headers().add("X-SLURM-USER-TOKEN", m_impl->token);
    if (body)
        req.set_body(body->dump(), "application/json");
    http_response resp;
    std::string text;
    try {
        resp = m_impl->http->request(req).get();
        text = resp.extract_utf8string(true).get();
    } catch (const std::exception& e) {
        throw UserError(502, "slurmrestd at " + m_impl->url + " is unreachable: " + e.what());
    }
    if (resp.status_code() == 401 || resp.status_code() == 403)
        throw UserError(401,
                        "slurmrestd refused the token (HTTP " + std::to_string(resp.status_code()) + ")");
    Json j;
    try {
        j = Json::parse(text);
    } catch (const std::exception&) {
        throw UserError(502, "slurmrestd answered HTTP " + std::to_string(resp.status_code()) +
                                 " without JSON: " + text.substr(0, 200));
    }
    std::string errors;
    if (j.contains("errors") && j["errors"].is_array())
        for (const auto& e : j["errors"])
            errors += (errors.empty() ? "" : "; ") + e.value("error", e.dump());
    if (resp.status_code() >= 400 || !errors.empty())
        // slurmrestd 22.05 answers a bad token and an unknown job alike: HTTP 500 with an error list.
        throw UserError(resp.status_code() >= 500 ? 502 : 400,
                        "slurmrestd: " +
                            (errors.empty() ? "HTTP " + std::to_string(resp.status_code()) : errors));
    return j;
}

Json SlurmClient::ping() {
    return request("GET", "/ping");
}
Json SlurmClient::partitions() {
    return request("GET", "/partitions")["partitions"];
}
Json SlurmClient::nodes() {
    return request("GET", "/nodes")["nodes"];
}

std::string SlurmClient::submit(const std::string& name, const std::string& partition,
                                const std::string& script,
                                const std::map<std::string, std::string>& environment,
                                const std::string& workdir, const std::string& output) {
    Json body = {{"script", script},
                 {"job",
                  {{"name", name},
                   {"partition", partition},
                   {"current_working_directory", workdir},
                   {"environment", environment},
                   {"standard_output", output},
                   {"standard_error", output}}}};
    auto j = request("POST", "/job/submit", &body);
    return std::to_string(j.at("job_id").get<std::int64_t>());
}

Json SlurmClient::job(const std::string& id) {
    auto j = request("GET", "/job/" + id);
    if (!j.contains("jobs") || j["jobs"].empty())
        throw UserError(404, "slurm has no job " + id);
    return j["jobs"][0];
}

void SlurmClient::cancel(const std::string& id) {
    request("DELETE", "/job/" + id);
}

} // namespace Kiln::Compute
