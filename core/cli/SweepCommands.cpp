// kiln sweep submit|list|show|wait|cancel: hyperparameter sweeps (core/sweeps, /api/v1/sweeps).
#include "cli/Command.h"

#include "api/Client.h"
#include "sweeps/SweepSpec.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>

namespace fs = std::filesystem;

namespace Kiln::Cli {

namespace {

std::string progress(const Json& s) {
    const auto& c = s["counts"];
    return std::to_string(c["completed"].get<int>() + c["failed"].get<int>() + c["stopped_early"].get<int>() +
                          c["canceled"].get<int>()) +
           "/" + std::to_string(s["spec"]["max_total_trials"].get<int>());
}

// A trial's params, only those the sweep varies unless `all` (a script's other arguments, such as a
// per-run data folder, would bury them). A swept `--learning-rate` is the run's param `learning_rate`.
std::string params(const Json& p, const Json& spec, bool all) {
    std::set<std::string> swept;
    for (const auto& [name, expr] : spec["parameters"].items()) {
        const auto start = name.find_first_not_of('-');
        auto key = start == std::string::npos ? name : name.substr(start);
        std::replace(key.begin(), key.end(), '-', '_');
        swept.insert(key);
    }
    std::string out;
    for (const auto& [k, v] : p.items())
        if (all || swept.count(k))
            out += (out.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : number(v));
    return out;
}

bool ended(const Json& trial) {
    const auto status = trial["status"].get<std::string>();
    return status == "Completed" || status == "Failed" || status == "Canceled";
}

} // namespace

int Command::sweeps() {
    const auto verb = m_a.word(1, "sweep verb");
    auto& c = client();
    if (verb == "submit") {
        const fs::path file = m_a.need("config");
        Sweeps::SweepFile sweep;
        try {
            sweep = Sweeps::readSweepFile(file);
        } catch (const Sweeps::SpaceError& e) {
            throw CliError(e.what());
        }
        if (!fs::is_directory(sweep.source))
            throw CliError(file.filename().string() + ": source " + sweep.source.string() +
                           " is not a folder");
        std::vector<std::string> warnings;
        auto body = sweep.body;
        body["snapshot"] = c.uploadSnapshot(sweep.source, warnings);
        body["source_path"] = fs::absolute(sweep.source).lexically_normal().string();
        for (const auto& w : warnings)
            m_err << "kiln: " << w << "\n";
        auto s = c.post("/api/v1/sweeps", body);
        if (m_json) {
            print(s);
            return 0;
        }
        const auto& spec = s["spec"];
        // The id alone on stdout, as `run submit` prints it (ID=$(kiln sweep submit ...)); the rest is said.
        m_out << s["id"] << "\n";
        m_err << "sweep " << s["id"] << " submitted: up to " << spec["max_total_trials"] << " trials, "
              << spec["max_concurrent_trials"] << " at once, " << spec["sampling"].get<std::string>()
              << " sampling of " << spec["parameters"].size() << " parameters (kiln sweep show " << s["id"]
              << ")\n";
        return 0;
    }
    if (verb == "list") {
        const auto limit = m_a.opt("limit").value_or("100");
        auto list = c.get("/api/v1/sweeps?limit=" + limit);
        if (m_json) {
            print(list);
            return 0;
        }
        m_out << std::left << std::setw(6) << "ID" << std::setw(11) << "STATUS" << std::setw(24)
              << "EXPERIMENT" << std::setw(9) << "TRIALS" << std::setw(10) << "RUNNING"
              << "BEST\n";
        for (const auto& s : list)
            m_out << std::setw(6) << s["id"].get<std::int64_t>() << std::setw(11)
                  << s["status"].get<std::string>() << std::setw(24)
                  << s["experiment"].get<std::string>().substr(0, 23) << std::setw(9) << progress(s)
                  << std::setw(10) << s["counts"]["running"].get<int>()
                  << (s["best"].is_null() ? std::string("-")
                                          : number(s["best"]["metric"]) + " (run " +
                                                std::to_string(s["best"]["run"].get<std::int64_t>()) + ")")
                  << "\n";
        return 0;
    }
    const auto id = parseRunId(m_a.word(2, "sweep id"), "sweep");
    const auto base = "/api/v1/sweeps/" + std::to_string(id);
    if (verb == "show") {
        auto s = c.get(base);
        if (m_json) {
            print(s);
            return 0;
        }
        const auto& spec = s["spec"];
        const auto& counts = s["counts"];
        m_out << "Sweep " << id << " (" << s["experiment"].get<std::string>()
              << "): " << s["status"].get<std::string>()
              << (s["error"].get<std::string>().empty() ? "" : ": " + s["error"].get<std::string>()) << "\n"
              << "  " << spec["primary_metric"]["goal"].get<std::string>() << " "
              << spec["primary_metric"]["name"].get<std::string>() << ", "
              << spec["sampling"].get<std::string>() << " sampling, " << progress(s)
              << " trials done: " << counts["completed"] << " completed, " << counts["running"]
              << " running, " << counts["queued"] << " queued, " << counts["stopped_early"]
              << " stopped early, " << counts["failed"] << " failed, " << counts["canceled"] << " canceled\n";
        const auto metricName = spec["primary_metric"]["name"].get<std::string>();
        const bool all = m_a.has("all");
        if (!s["best"].is_null())
            m_out << "  Best: run " << s["best"]["run"] << " with " << metricName << " = "
                  << number(s["best"]["metric"]) << " (" << params(s["best"]["params"], spec, all) << ")\n";
        // Trials that ended without ever logging the metric the sweep ranks by: say so, they would
        // otherwise read as "-" with no reason.
        int silent = 0;
        for (const auto& t : s["trials"])
            silent += ended(t) && t["reports"].get<std::int64_t>() == 0;
        if (silent > 0)
            m_out << "  " << silent << (silent == 1 ? " trial" : " trials") << " ended without logging "
                  << metricName
                  << ": does the script log it under that name, often enough? (kiln run metrics "
                  << "RUN lists what a run logged)\n";
        m_out << std::left << std::setw(7) << "RUN" << std::setw(11) << "STATUS" << std::setw(12) << "METRIC"
              << "PARAMS\n";
        for (const auto& t : s["trials"]) {
            m_out << std::setw(7) << t["run"].get<std::int64_t>() << std::setw(11)
                  << t["status"].get<std::string>() << std::setw(12)
                  << (t["metric"].is_null() ? std::string("-") : number(t["metric"]))
                  << params(t["params"], spec, all) << "\n";
            if (!t["stop_reason"].get<std::string>().empty())
                m_out << "       stopped: " << t["stop_reason"].get<std::string>() << "\n";
            else if (!t["error"].get<std::string>().empty())
                m_out << "       " << t["error"].get<std::string>() << "\n";
            if (ended(t) && t["reports"].get<std::int64_t>() == 0)
                m_out << "       never logged " << metricName << "\n";
        }
        return 0;
    }
    if (verb == "wait") {
        std::int64_t version = -1;
        for (;;) {
            auto s = c.get(base);
            if (s["status"] != "Running") {
                if (m_json)
                    print(s);
                else
                    m_out << "sweep " << id << " " << s["status"].get<std::string>() << ": " << progress(s)
                          << " trials"
                          << (s["best"].is_null()
                                  ? std::string()
                                  : ", best " + number(s["best"]["metric"]) + " (run " +
                                        std::to_string(s["best"]["run"].get<std::int64_t>()) + ")")
                          << (s["error"].get<std::string>().empty() ? ""
                                                                    : ": " + s["error"].get<std::string>())
                          << "\n";
                return s["status"] == "Completed" ? 0 : 1;
            }
            // Anything in the workspace changing wakes this (trials are runs).
            version = c.get("/api/v1/changes?timeout_ms=5000&version=" + std::to_string(version))["version"]
                          .get<std::int64_t>();
        }
    }
    if (verb == "cancel") {
        auto s = c.post(base + "/cancel", Json::object());
        const auto status = s["status"].get<std::string>();
        if (m_json)
            print(s);
        else if (s["cancel_by"] == "the user" && status == "Canceled")
            m_out << "sweep " << id << " Canceled; its live trials are being canceled\n";
        else
            m_out << "sweep " << id << " had already ended (" << status << "): nothing to cancel\n";
        return 0;
    }
    throw CliError("unknown sweep verb: " + verb + " (see kiln sweep --help)");
}

} // namespace Kiln::Cli
