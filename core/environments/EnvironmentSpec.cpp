#include "EnvironmentSpec.h"

#include "util/Crypto.h"
#include "util/Error.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <yaml-cpp/yaml.h>

namespace Kiln::Environments {

bool parseCondaYaml(const std::string& text, CondaFile& out, YamlError& error) {
    out = {};
    auto fail = [&](const std::string& message, const YAML::Mark& mark) {
        error.message = message;
        error.line = mark.line >= 0 ? mark.line + 1 : 0;
        error.column = mark.column >= 0 ? mark.column + 1 : 0;
        return false;
    };
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        return fail(e.msg, e.mark);
    }
    if (!root.IsMap())
        return fail(
            "an environment file is a mapping with 'dependencies' (and optionally 'name', 'channels')",
            root.Mark());
    try {
        for (const auto& kv : root) {
            const auto key = kv.first.as<std::string>();
            const auto& value = kv.second;
            if (key == "name") {
                out.name = value.as<std::string>();
            } else if (key == "channels") {
                if (!value.IsSequence())
                    return fail("'channels' must be a list", value.Mark());
                for (const auto& c : value)
                    out.channels.push_back(c.as<std::string>());
            } else if (key == "dependencies") {
                if (!value.IsSequence())
                    return fail("'dependencies' must be a list", value.Mark());
                for (const auto& d : value) {
                    if (d.IsScalar()) {
                        out.dependencies.push_back(d.as<std::string>());
                    } else if (d.IsMap() && d["pip"]) {
                        const auto& pip = d["pip"];
                        if (!pip.IsSequence())
                            return fail("'pip' must be a list of requirements", pip.Mark());
                        for (const auto& p : pip) {
                            if (!p.IsScalar())
                                return fail("each pip requirement is a string", p.Mark());
                            out.pip.push_back(p.as<std::string>());
                        }
                    } else {
                        return fail("a dependency is a package name or a 'pip:' list", d.Mark());
                    }
                }
            } else if (key == "prefix" || key == "variables") {
                // accepted, not used by Kiln's venv builds
            } else {
                return fail("unknown key '" + key + "' (expected name, channels, dependencies)",
                            kv.first.Mark());
            }
        }
    } catch (const YAML::Exception& e) {
        return fail(e.msg, e.mark);
    }
    return true;
}

bool isValidEnvironmentName(const std::string& name) {
    if (name.empty() || name.size() > 100 || name.find("..") != std::string::npos ||
        !std::isalnum(static_cast<unsigned char>(name[0])))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; });
}

Json Spec::toJson() const {
    return {{"python", python},
            {"conda_yaml", condaYaml},
            {"channels", channels},
            {"conda_dependencies", condaDependencies},
            {"pip", pip},
            {"variables", variables},
            {"index_url", indexUrl},
            {"find_links", findLinks},
            {"no_index", noIndex},
            {"docker_image", dockerImage}};
}

Spec Spec::fromJson(const Json& j) {
    Spec s;
    s.python = j.value("python", "");
    s.condaYaml = j.value("conda_yaml", "");
    s.channels = j.value("channels", std::vector<std::string>{});
    s.condaDependencies = j.value("conda_dependencies", std::vector<std::string>{});
    s.pip = j.value("pip", std::vector<std::string>{});
    s.variables = j.value("variables", std::map<std::string, std::string>{});
    s.indexUrl = j.value("index_url", "");
    s.findLinks = j.value("find_links", std::vector<std::string>{});
    s.noIndex = j.value("no_index", false);
    s.dockerImage = j.value("docker_image", "");
    return s;
}

std::string Spec::hash() const {
    Json build = {{"python", python},
                  {"conda_dependencies", condaDependencies},
                  {"pip", pip},
                  {"index_url", indexUrl},
                  {"find_links", findLinks},
                  {"no_index", noIndex}};
    return Util::sha256Hex(build.dump());
}

static std::string field(const Json& body, const char* key, std::size_t maxLen) {
    if (!body.contains(key) || body[key].is_null())
        return {};
    if (!body[key].is_string())
        throw badRequest(std::string("'") + key + "' must be a string");
    auto s = body[key].get<std::string>();
    if (s.size() > maxLen)
        throw badRequest(std::string("'") + key + "' is too long");
    if (s.find('\0') != std::string::npos)
        throw badRequest(std::string("'") + key + "' contains NUL");
    return s;
}

static void checkRequirement(const std::string& r) {
    if (r.empty() || r.size() > 1000 || r.front() == '-' ||
        std::any_of(r.begin(), r.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        throw badRequest("not a pip requirement: '" + r.substr(0, 100) +
                         "' (options go in index_url/find_links)");
}

Spec specFromRequest(const Json& body) {
    Spec s;
    s.python = field(body, "python", 4096);
    s.condaYaml = field(body, "conda_yaml", 1 << 20);
    const auto requirements = field(body, "requirements", 1 << 20);
    s.indexUrl = field(body, "index_url", 4096);
    s.dockerImage = field(body, "docker_image", 1000);
    if (body.contains("no_index")) {
        if (!body["no_index"].is_boolean())
            throw badRequest("'no_index' must be true or false");
        s.noIndex = body["no_index"].get<bool>();
    }
    if (body.contains("find_links") && !body["find_links"].is_null()) {
        if (!body["find_links"].is_array() || body["find_links"].size() > 50)
            throw badRequest("'find_links' must be a list of folders or URLs");
        for (const auto& f : body["find_links"]) {
            if (!f.is_string() || f.get<std::string>().empty() || f.get<std::string>().size() > 4096)
                throw badRequest("'find_links' must be a list of folders or URLs");
            s.findLinks.push_back(f.get<std::string>());
        }
    }
    if (body.contains("variables") && !body["variables"].is_null()) {
        if (!body["variables"].is_object() || body["variables"].size() > 200)
            throw badRequest("'variables' must be an object of at most 200 strings");
        for (const auto& [k, v] : body["variables"].items()) {
            const bool okName =
                !k.empty() && k.size() <= 200 && !std::isdigit(static_cast<unsigned char>(k[0])) &&
                std::all_of(k.begin(), k.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
            if (!okName || !v.is_string() || v.get<std::string>().size() > 10000 ||
                v.get<std::string>().find('\0') != std::string::npos)
                throw badRequest(
                    "environment variable names are letters, digits and '_' with string values: " +
                    k.substr(0, 100));
            s.variables[k] = v.get<std::string>();
        }
    }
    if (!s.condaYaml.empty()) {
        CondaFile conda;
        YamlError error;
        if (!parseCondaYaml(s.condaYaml, conda, error))
            throw badRequest("environment file, line " + std::to_string(error.line) + ", column " +
                             std::to_string(error.column) + ": " + error.message);
        s.channels = conda.channels;
        for (const auto& d : conda.dependencies) {
            auto compact = d;
            compact.erase(std::remove(compact.begin(), compact.end(), ' '), compact.end());
            if (compact.rfind("python=", 0) == 0 || compact.rfind("python==", 0) == 0) {
                auto version = compact.substr(compact.find_last_of('=') + 1);
                if (!s.python.empty() && s.python != version)
                    throw badRequest("the file asks for python " + version + " but 'python' says " +
                                     s.python);
                s.python = version;
            } else if (compact == "python" || compact == "pip") {
                // the venv provides them
            } else {
                s.condaDependencies.push_back(d);
            }
        }
        for (const auto& p : conda.pip)
            s.pip.push_back(p);
    }
    std::istringstream lines(requirements);
    for (std::string line; std::getline(lines, line);) {
        const auto first = line.find_first_not_of(" \t\r");
        line = first == std::string::npos ? std::string()
                                          : line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
        if (line.empty() || line[0] == '#')
            continue;
        s.pip.push_back(line);
    }
    for (const auto& r : s.pip)
        checkRequirement(r);
    if (s.pip.size() > 1000)
        throw badRequest("at most 1000 pip requirements");
    if (s.python.empty() && s.condaYaml.empty() && requirements.empty())
        throw badRequest(
            "an environment needs a python (path or version), a conda file, or a requirements list");
    return s;
}

} // namespace Kiln::Environments
