#include "SweepSpec.h"

#include "util/Fs.h"
#include "util/Fuzzy.h"

#include <cmath>
#include <set>
#include <yaml-cpp/yaml.h>

namespace Kiln::Sweeps {

namespace {

const std::set<std::string> kTemplateFields = {"experiment",  "script",   "args",        "compute",
                                               "environment", "snapshot", "source_path", "name"};

std::int64_t whole(const Json& body, const char* key, std::int64_t def, std::int64_t min, std::int64_t max) {
    if (!body.contains(key) || body[key].is_null())
        return def;
    if (!body[key].is_number_integer() || body[key].get<std::int64_t>() < min ||
        body[key].get<std::int64_t>() > max)
        throw SpaceError(std::string(key) + " must be a whole number from " + std::to_string(min) + " to " +
                             std::to_string(max),
                         0);
    return body[key].get<std::int64_t>();
}

} // namespace

SweepSpec SweepSpec::fromJson(const Json& body) {
    if (!body.is_object())
        throw SpaceError("a sweep is a JSON object", 0);
    static const std::set<std::string> sweepFields = {
        "parameters",           "sampling",         "seed",
        "primary_metric",       "max_total_trials", "max_concurrent_trials",
        "max_duration_minutes", "early_termination"};
    SweepSpec s;
    for (const auto& [key, value] : body.items()) {
        if (kTemplateFields.count(key))
            s.run[key] = value;
        else if (!sweepFields.count(key)) {
            std::vector<std::string> known(sweepFields.begin(), sweepFields.end());
            known.insert(known.end(), kTemplateFields.begin(), kTemplateFields.end());
            const auto near = Util::nearestWord(key, known);
            throw SpaceError("'" + key + "' is not a sweep setting" +
                                 (near ? "; did you mean '" + *near + "'?" : std::string()),
                             0);
        }
    }
    if (!body.contains("parameters") || !body["parameters"].is_object() || body["parameters"].empty())
        throw SpaceError("parameters must map each parameter's name to a distribution, e.g. "
                         "{\"--learning-rate\": \"loguniform(-9.2, -2.3)\"}",
                         0);
    if (body["parameters"].size() > 100)
        throw SpaceError("parameters: at most 100", 0);
    for (const auto& [name, expr] : body["parameters"].items()) {
        if (name.empty() || name.size() > 200 || name == "-" || name == "--" ||
            name.find_first_of(" \t\n\r=\"'") != std::string::npos)
            throw SpaceError("parameters: '" + name.substr(0, 200) + "' is not a usable argument name", 0);
        if (!expr.is_string())
            throw SpaceError("parameters." + name + " must be an expression such as choice(32, 64)", 0);
        try {
            s.parameters.push_back({name, Distribution::parse(expr.get<std::string>())});
        } catch (const SpaceError& e) {
            throw SpaceError("parameters." + name + ": " + e.what(), e.column);
        }
    }
    std::set<std::string> keys;
    for (const auto& p : s.parameters)
        if (!keys.insert(p.key()).second)
            throw SpaceError("parameters: two names give the run param '" + p.key() + "'", 0);
    if (body.contains("sampling") && !body["sampling"].is_null()) {
        if (!body["sampling"].is_string())
            throw SpaceError("sampling must be grid, random, sobol or bayesian", 0);
        s.sampling = body["sampling"].get<std::string>();
    }
    if (body.contains("seed") && !body["seed"].is_null()) {
        if (!body["seed"].is_number_integer())
            throw SpaceError("seed must be a whole number", 0);
        s.seed = body["seed"].get<std::uint64_t>();
    }
    auto sampler = makeSampler(s.sampling, s.parameters, s.seed); // checks the method fits the space
    const auto& pm = body.contains("primary_metric") ? body["primary_metric"] : Json();
    if (!pm.is_object() || !pm.contains("name") || !pm["name"].is_string() ||
        pm["name"].get<std::string>().empty() || pm["name"].get<std::string>().size() > 250)
        throw SpaceError("primary_metric needs a name: {name: accuracy, goal: maximize}", 0);
    s.primaryMetric = pm["name"].get<std::string>();
    const auto goal = pm.value("goal", std::string("maximize"));
    if (goal != "maximize" && goal != "minimize")
        throw SpaceError("primary_metric.goal must be maximize or minimize", 0);
    s.goal = goal == "maximize" ? Goal::Maximize : Goal::Minimize;
    for (const auto& [key, v] : pm.items())
        if (key != "name" && key != "goal")
            throw SpaceError("primary_metric has no setting '" + key + "'", 0);
    s.maxTotalTrials = whole(body, "max_total_trials", 20, 1, 100000);
    if (auto n = sampler->size(); n && *n < s.maxTotalTrials) {
        if (body.contains("max_total_trials") && !body["max_total_trials"].is_null() && s.sampling == "grid")
            s.maxTotalTrials = *n; // a grid runs each point once
        else
            s.maxTotalTrials = std::min(s.maxTotalTrials, *n);
    }
    s.maxConcurrentTrials = whole(body, "max_concurrent_trials", 4, 1, 10000);
    if (body.contains("max_duration_minutes") && !body["max_duration_minutes"].is_null()) {
        const auto& d = body["max_duration_minutes"];
        if (!d.is_number() || !(d.get<double>() > 0) || d.get<double>() > 525600 * 10)
            throw SpaceError("max_duration_minutes must be a number of minutes above 0", 0);
        s.maxDurationMinutes = d.get<double>();
    }
    s.policy = Policy::fromJson(body.contains("early_termination") ? body["early_termination"] : Json());
    return s;
}

Json SweepSpec::toJson() const {
    Json body = run;
    Json params = Json::object();
    for (const auto& p : parameters)
        params[p.name] = p.distribution.text();
    body["parameters"] = params;
    body["sampling"] = sampling;
    body["seed"] = seed;
    body["primary_metric"] = {{"name", primaryMetric},
                              {"goal", goal == Goal::Maximize ? "maximize" : "minimize"}};
    body["max_total_trials"] = maxTotalTrials;
    body["max_concurrent_trials"] = maxConcurrentTrials;
    body["max_duration_minutes"] = maxDurationMinutes > 0 ? Json(maxDurationMinutes) : Json(nullptr);
    body["early_termination"] = policy.toJson();
    return body;
}

namespace {

// A YAML scalar as JSON: a whole number, a number, true/false, or the text.
Json scalar(const YAML::Node& n) {
    const auto& text = n.Scalar();
    if (n.Tag() != "!") { // not quoted
        try {
            std::size_t used = 0;
            const long long i = std::stoll(text, &used);
            if (used == text.size())
                return Json(static_cast<std::int64_t>(i));
        } catch (...) {
        }
        try {
            std::size_t used = 0;
            const double d = std::stod(text, &used);
            if (used == text.size() && std::isfinite(d))
                return Json(d);
        } catch (...) {
        }
        if (text == "true" || text == "false")
            return Json(text == "true");
        if (text == "null" || text == "~" || text.empty())
            return nullptr;
    }
    return text;
}

Json toJson(const YAML::Node& n) {
    if (n.IsMap()) {
        Json j = Json::object();
        for (const auto& kv : n)
            j[kv.first.Scalar()] = toJson(kv.second);
        return j;
    }
    if (n.IsSequence()) {
        Json j = Json::array();
        for (const auto& v : n)
            j.push_back(toJson(v));
        return j;
    }
    if (n.IsScalar())
        return scalar(n);
    return nullptr;
}

} // namespace

SweepFile readSweepFile(const std::filesystem::path& file) {
    const auto name = file.filename().string();
    auto fail = [&](const YAML::Mark& mark, const std::string& message) -> SpaceError {
        if (mark.is_null())
            return SpaceError(name + ": " + message, 0);
        return SpaceError(name + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
                              ": " + message,
                          mark.column + 1);
    };
    std::string text;
    try {
        text = Util::readFile(file);
    } catch (const std::exception& e) {
        throw SpaceError("cannot read the sweep file " + file.string() + ": " + e.what(), 0);
    }
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw fail(e.mark, e.msg);
    }
    if (!root.IsMap())
        throw fail(root.Mark(),
                   "a sweep file is a mapping of settings (experiment:, script:, parameters:...)");
    static const std::map<std::string, std::string> renamed = {{"arguments", "args"}};
    SweepFile out;
    Json body = Json::object();
    for (const auto& kv : root) {
        const auto key = kv.first.Scalar();
        if (key == "source") {
            if (!kv.second.IsScalar() || kv.second.Scalar().empty())
                throw fail(kv.second.Mark(), "source is the folder holding the script");
            std::filesystem::path p = kv.second.Scalar();
            out.source = p.is_absolute() ? p : file.parent_path() / p; // relative to the file
            continue;
        }
        if (key == "snapshot" || key == "source_path" || key == "args")
            throw fail(kv.first.Mark(), key + " is not a sweep file setting");
        auto value = toJson(kv.second);
        if (key == "arguments") {
            if (!value.is_array())
                throw fail(kv.second.Mark(), "arguments is a list: [--epochs, 1]");
            for (auto& a : value)
                a = a.is_string() ? a : Json(a.dump());
        }
        if (key == "parameters" && kv.second.IsMap()) {
            // Check each expression here, where its line and column are known.
            for (const auto& p : kv.second) {
                if (!p.second.IsScalar())
                    throw fail(p.second.Mark(),
                               p.first.Scalar() + " must be an expression such as choice(32, 64)");
                try {
                    Distribution::parse(p.second.Scalar());
                } catch (const SpaceError& e) {
                    auto mark = p.second.Mark();
                    if (e.column > 0)
                        mark.column += e.column - 1 + (p.second.Tag() == "!" ? 1 : 0);
                    throw fail(mark, p.first.Scalar() + ": " + e.what());
                }
            }
        }
        body[renamed.count(key) ? renamed.at(key) : key] = value;
    }
    if (out.source.empty())
        throw fail(root.Mark(), "source: the folder holding the script is missing");
    try {
        auto check = body;
        SweepSpec::fromJson(check);
    } catch (const SpaceError& e) {
        // Point at the setting the message starts with.
        std::string what = e.what();
        const auto start = what.starts_with('\'') ? 1 : 0; // 'max_total_trails' is not a sweep setting
        const auto field = what.substr(start, what.find_first_of(" .:'", start) - start);
        const auto yamlKey = field == "args" ? std::string("arguments") : field;
        throw fail(root[yamlKey] ? root[yamlKey].Mark() : root.Mark(), what);
    }
    out.body = std::move(body);
    return out;
}

} // namespace Kiln::Sweeps
