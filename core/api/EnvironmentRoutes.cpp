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

namespace {
Json withBuild(Environments::EnvBuilder& builder, const Environments::EnvironmentVersion& v) {
    auto j = Environments::toJson(v);
    j["built"] = builder.isBuilt(v.spec);
    return j;
}
} // namespace

Response Service::listEnvironments(Call&) {
    Json out = Json::array();
    for (const auto& e : m_d.environments.list())
        if (auto v = m_d.environments.version(e["name"].get<std::string>(), 0))
            out.push_back(withBuild(m_d.builder, *v));
    return jsonResponse(200, dump(out));
}

Response Service::createEnvironment(Call& c) {
    auto body = parseBody(c.request.body);
    if (!body.contains("name") || !body["name"].is_string() ||
        !Environments::isValidEnvironmentName(body["name"].get<std::string>()))
        throw badRequest(
            "environment name must be 1-100 letters, digits, '.', '_' or '-', start with a letter or "
            "digit, and not contain '..'");
    auto spec = Environments::specFromRequest(body);
    auto [version, created] = m_d.environments.create(body["name"].get<std::string>(), spec);
    return jsonResponse(created ? 201 : 200,
                        dump({{"environment", withBuild(m_d.builder, version)}, {"created", created}}));
}

Response Service::getEnvironment(Call& c) {
    const auto& name = c.param("name");
    auto versions = Environments::isValidEnvironmentName(name)
                        ? m_d.environments.versions(name)
                        : std::vector<Environments::EnvironmentVersion>{};
    if (versions.empty())
        throw notFound("no such environment: " + name.substr(0, 100));
    Json list = Json::array();
    for (const auto& v : versions)
        list.push_back(withBuild(m_d.builder, v));
    return jsonResponse(200, dump({{"name", name}, {"versions", list}}));
}

Environments::EnvironmentVersion Service::environmentVersionOf(const Call& c) {
    const auto& name = c.param("name");
    if (!Environments::isValidEnvironmentName(name))
        throw notFound("no such environment: " + name.substr(0, 100));
    auto version = resolveEnvironment(name + ":" + c.param("version"));
    if (!version)
        throw notFound("no such environment version: " + name + ":" + c.param("version").substr(0, 40));
    return std::move(*version);
}

Response Service::getEnvironmentVersion(Call& c) {
    const auto version = environmentVersionOf(c);
    auto j = withBuild(m_d.builder, version);
    j["runs"] = m_d.environments.runsUsing(version.id);
    return jsonResponse(200, dump(j));
}

Response Service::buildEnvironment(Call& c) {
    const auto version = environmentVersionOf(c);
    auto id = m_d.jobs.start("environment-build", environmentBuild(version.spec),
                             {{"environment", version.name + ":" + std::to_string(version.version)}});
    return jsonResponse(202, dump({{"job", id}}));
}

} // namespace Kiln::Api
