// /api/v1/environments (see API.md).
#include "Service.h"

#include "api/Validation.h"
#include "environments/EnvBuilder.h"
#include "environments/EnvironmentStore.h"
#include "server/Jobs.h"
#include "util/Error.h"

#include <charconv>
#include <deque>

namespace Kiln::Api {

std::optional<Environments::EnvironmentVersion> Service::resolveEnvironment(const std::string& ref) {
    const auto colon = ref.find(':');
    const auto name = ref.substr(0, colon);
    int version = 0;
    if (colon != std::string::npos) {
        const auto v = ref.substr(colon + 1);
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
        if (v != "latest" && (ec != std::errc() || p != v.data() + v.size() || version <= 0))
            throw badRequest("an environment is NAME or NAME:VERSION, not '" + ref.substr(0, 100) + "'");
    }
    if (!Environments::isValidEnvironmentName(name))
        return std::nullopt;
    return m_d.environments.version(name, version);
}

Server::Jobs::Work Service::environmentBuild(const Environments::Spec& spec) {
    auto* builder = &m_d.builder;
    return [builder, spec](Server::Jobs::Job& job) {
        auto lines = std::make_shared<std::deque<std::string>>();
        auto result = builder->ensure(
            spec,
            [&job, lines](const std::string& line) {
                lines->push_back(line);
                if (lines->size() > 500)
                    lines->pop_front();
                job.setProgress({{"log", Json(*lines)}});
            },
            [&job] { return job.canceled(); });
        job.setProgress({{"log", Json(*lines)}});
        return Json{{"prefix", result.prefix.string()},
                    {"python", result.python.string()},
                    {"reused", result.reused},
                    {"log", Json(*lines)}};
    };
}

Response Service::routeEnvironments(const Request& r, const Segments& seg) {
    auto& store = m_d.environments;
    auto withBuild = [this](const Environments::EnvironmentVersion& v) {
        auto j = Environments::toJson(v);
        j["built"] = m_d.builder.isBuilt(v.spec);
        return j;
    };
    if (seg.size() == 1) {
        if (r.method == "GET") {
            Json out = Json::array();
            for (const auto& e : store.list()) {
                auto v = store.version(e["name"].get<std::string>(), 0);
                out.push_back(withBuild(*v));
            }
            return jsonResponse(200, dump(out));
        }
        if (r.method != "POST")
            return errorResponse(405, "method not allowed");
        auto body = parseBody(r.body);
        if (!body.contains("name") || !body["name"].is_string() ||
            !Environments::isValidEnvironmentName(body["name"].get<std::string>()))
            throw badRequest(
                "environment name must be 1-100 letters, digits, '.', '_' or '-', start with a letter or "
                "digit, and not contain '..'");
        auto spec = Environments::specFromRequest(body);
        auto [version, created] = store.create(body["name"].get<std::string>(), spec);
        return jsonResponse(created ? 201 : 200,
                            dump({{"environment", withBuild(version)}, {"created", created}}));
    }
    const auto& name = seg[1];
    if (!Environments::isValidEnvironmentName(name))
        throw notFound("no such environment: " + name.substr(0, 100));
    if (seg.size() == 2) {
        if (r.method != "GET")
            return errorResponse(405, "method not allowed");
        auto versions = store.versions(name);
        if (versions.empty())
            throw notFound("no such environment: " + name);
        Json list = Json::array();
        for (const auto& v : versions)
            list.push_back(withBuild(v));
        return jsonResponse(200, dump({{"name", name}, {"versions", list}}));
    }
    if (seg.size() >= 4 && seg[2] == "versions") {
        auto version = resolveEnvironment(name + ":" + seg[3]);
        if (!version)
            throw notFound("no such environment version: " + name + ":" + seg[3].substr(0, 40));
        if (seg.size() == 4 && r.method == "GET") {
            auto j = withBuild(*version);
            j["runs"] = store.runsUsing(version->id);
            return jsonResponse(200, dump(j));
        }
        if (seg.size() == 5 && seg[4] == "build" && r.method == "POST") {
            auto id = m_d.jobs.start("environment-build", environmentBuild(version->spec),
                                     {{"environment", name + ":" + std::to_string(version->version)}});
            return jsonResponse(202, dump({{"job", id}}));
        }
    }
    throw notFound("no such endpoint: " + r.method + " " + r.path.substr(0, 200));
}

} // namespace Kiln::Api
