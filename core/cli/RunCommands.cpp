#include "cli/Command.h"

#include "api/Client.h"
#include "api/Http.h"
#include "metrics/SystemSummary.h"
#include "transfer/Download.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Cli {

void Command::printRunLine(const Json& r, const std::vector<std::string>& extra) {
    m_out << std::left << std::setw(6) << r["id"].get<std::int64_t>() << std::setw(11)
          << r["status"].get<std::string>() << std::setw(24)
          << r["experiment"].get<std::string>().substr(0, 23) << std::setw(20)
          << Util::formatTimestamp(r["created"].get<double>()) << std::setw(9) << duration(r);
    for (const auto& field : extra) {
        // metrics.K (its last value), min(metrics.K), max(metrics.K), params.K, tags.K
        Json v;
        const auto dot = field.find('.');
        const auto kind = field.substr(0, dot);
        const auto inner = kind.starts_with("min(") || kind.starts_with("max(");
        const auto key = field.substr(dot + 1, field.size() - dot - 1 - (inner ? 1 : 0));
        if (kind == "metrics" || inner) {
            if (r.contains("metrics") && r["metrics"].contains(key))
                v = r["metrics"][key][inner ? kind.substr(0, 3) : "last"];
        } else if (r.contains(kind) && r[kind].is_object() && r[kind].contains(key)) {
            v = r[kind][key];
        }
        m_out << std::setw(static_cast<int>(std::max<std::size_t>(field.size(), 10)) + 2)
              << (v.is_null()     ? std::string("-")
                  : v.is_string() ? v.get<std::string>()
                                  : number(v));
    }
    m_out << r["name"].get<std::string>() << "\n";
}

void Command::printRun(const Json& r) {
    m_out << "Run " << r["id"] << ": " << r["name"].get<std::string>() << "\n"
          << "  Status:     " << r["status"].get<std::string>() << "\n"
          << "  Experiment: " << r["experiment"].get<std::string>() << "\n"
          << "  Script:     " << r["script"].get<std::string>();
    for (const auto& a : r["args"])
        m_out << " " << a.get<std::string>();
    if (!r["node"].get<std::string>().empty())
        m_out << "\n  Compute:    " << r["compute"].get<std::string>() << " (node "
              << r["node"].get<std::string>() << ")"
              << (r.value("external_id", std::string()).empty()
                      ? ""
                      : ", Slurm job " + r["external_id"].get<std::string>());
    m_out << "\n  Source:     " << r["source_path"].get<std::string>() << " (snapshot "
          << r["snapshot"].get<std::string>().substr(0, 12) << ")\n"
          << "  Created:    " << Util::formatTimestamp(r["created"].get<double>()) << "\n"
          << "  Duration:   " << duration(r) << "\n";
    if (!r["exit_code"].is_null())
        m_out << "  Exit code:  " << r["exit_code"] << "\n";
    if (!r["signal"].is_null())
        m_out << "  Signal:     " << r["signal"] << "\n";
    if (!r["error"].get<std::string>().empty())
        m_out << "  Error:      " << r["error"].get<std::string>() << "\n";
    if (!r["params"].empty())
        m_out << "  Params:     " << r["params"].dump() << "\n";
    if (!r["tags"].empty())
        m_out << "  Tags:       " << r["tags"].dump() << "\n";
    if (r.value("starred", false) || r.value("archived", false))
        m_out << "  Marked:     " << (r.value("starred", false) ? "starred " : "")
              << (r.value("archived", false) ? "archived" : "") << "\n";
    if (!r.value("note", std::string()).empty())
        m_out << "  Note:       " << r["note"].get<std::string>() << "\n";
    if (r.contains("environment") && r["environment"].is_object())
        m_out << "  Environment: " << r["environment"]["name"].get<std::string>() << ":"
              << r["environment"]["version"].get<int>() << "\n";
    if (r.contains("datasets"))
        for (const auto& d : r["datasets"])
            m_out << "  Dataset:    " << d["name"].get<std::string>() << ":" << d["version"].get<int>()
                  << " (" << d["mode"].get<std::string>() << ")\n";
}

int Command::finalStatus(const Json& run) {
    const auto status = run["status"].get<std::string>();
    if (status == "Completed")
        return 0;
    if (!m_json) {
        auto error = run["error"].get<std::string>();
        m_err << "run " << run["id"] << " " << status << (error.empty() ? "" : ": " + error) << "\n";
    }
    return 1;
}

int Command::experiments() {
    const auto verb = m_a.word(1, "experiment verb");
    auto& c = client();
    if (verb == "list") {
        const auto list =
            c.get(std::string("/api/v1/experiments") + (m_a.has("archived") ? "?archived=1" : ""));
        if (m_json)
            return print(list), 0;
        m_out << std::left << std::setw(32) << "EXPERIMENT" << std::setw(8) << "RUNS"
              << "LAST RUN\n";
        for (const auto& e : list)
            m_out << std::left << std::setw(32)
                  << (e["name"].get<std::string>() + (e.value("archived", false) ? " (archived)" : ""))
                  << std::setw(8) << e["run_count"].get<std::int64_t>()
                  << (e["last_run"].is_number() ? Util::formatTimestamp(e["last_run"].get<double>()) : "-")
                  << "\n";
        return 0;
    }
    const auto name = m_a.word(2, "experiment");
    const auto path = "/api/v1/experiments/" + Api::percentEncode(name);
    Json e;
    if (verb == "rename")
        e = c.request("PATCH", path, {{"name", m_a.word(3, "new name")}});
    else if (verb == "archive" || verb == "unarchive")
        e = c.request("PATCH", path, {{"archived", verb == "archive"}});
    else
        throw CliError("unknown experiment verb: " + verb);
    m_json ? print(e)
           : void(m_out << e["name"].get<std::string>() << (e["archived"].get<bool>() ? " (archived)" : "")
                        << "\n");
    return 0;
}

int Command::runs() {
    const auto verb = m_a.word(1, "run verb");
    auto& c = client();
    if (verb == "submit") {
        Api::SubmitRequest req;
        req.experiment = m_a.need("experiment");
        req.sourceDir = m_a.need("source");
        req.script = m_a.need("script");
        req.args = m_a.rest;
        req.name = m_a.opt("name").value_or("");
        req.compute = m_a.opt("compute").value_or("");
        req.environment = m_a.opt("env").value_or("");
        if (auto interval = m_a.opt("system-interval")) {
            // The server checks the range; here only that it is a number at all.
            std::size_t used = 0;
            try {
                req.systemInterval = std::stod(*interval, &used);
            } catch (...) {
            }
            if (!req.systemInterval || used != interval->size())
                throw CliError("--system-interval takes seconds, e.g. 5 or 0.5, not '" + *interval + "'");
        }
        auto run = c.submit(req);
        for (const auto& w : run.value("warnings", Json::array()))
            m_err << "kiln: warning: " << w.get<std::string>() << "\n";
        m_json ? print(run) : void(m_out << run["id"] << "\n");
        return 0;
    }
    if (verb == "list") {
        std::string q = "/api/v1/runs?limit=" + Api::percentEncode(m_a.opt("limit").value_or("100"));
        for (const auto& [option, parameter] : {std::pair{"experiment", "experiment"},
                                                {"filter", "filter"},
                                                {"order-by", "order_by"},
                                                {"offset", "offset"}})
            if (auto v = m_a.opt(option))
                q += std::string("&") + parameter + "=" + Api::percentEncode(*v);
        if (m_a.has("archived"))
            q += "&archived=1";
        auto list = c.get(q);
        if (m_json) {
            print(list);
        } else {
            // The fields it is ordered or filtered by get a column each (at most four).
            std::vector<std::string> extra;
            static const std::regex field(
                R"(((?:min|max)\(\s*metrics|metrics|params|tags)\.([A-Za-z0-9_./-]+)(\))?)");
            for (const auto& option : {"order-by", "filter"})
                if (auto text = m_a.opt(option))
                    for (std::sregex_iterator m(text->begin(), text->end(), field), end; m != end; ++m) {
                        auto kind = (*m)[1].str();
                        kind.erase(std::remove(kind.begin(), kind.end(), ' '), kind.end());
                        const bool inner = kind.starts_with("min(") || kind.starts_with("max(");
                        if (inner != (*m)[3].matched)
                            continue;
                        const auto name = kind + "." + (*m)[2].str() + (inner ? ")" : "");
                        if (extra.size() < 4 && std::find(extra.begin(), extra.end(), name) == extra.end())
                            extra.push_back(name);
                    }
            m_out << std::left << std::setw(6) << "ID" << std::setw(11) << "STATUS" << std::setw(24)
                  << "EXPERIMENT" << std::setw(20) << "CREATED" << std::setw(9) << "TIME";
            for (const auto& f : extra)
                m_out << std::setw(static_cast<int>(std::max<std::size_t>(f.size(), 10)) + 2) << f;
            m_out << "NAME\n";
            for (const auto& r : list)
                printRunLine(r, extra);
        }
        return 0;
    }
    const auto id = parseRunId(m_a.word(2, "run id"));
    const auto base = "/api/v1/runs/" + std::to_string(id);
    // Managing a run: each verb changes one thing and says what changed (--json: prints the run).
    auto done = [&](const Json& run, const std::string& what) {
        m_json ? print(run) : void(m_out << "run " << id << what << "\n");
        return 0;
    };
    if (verb == "rename") {
        const auto name = m_a.word(3, "new name");
        return done(c.request("PATCH", base, {{"name", name}}), " renamed: " + name);
    }
    if (verb == "star" || verb == "unstar")
        return done(c.request("PATCH", base, {{"starred", verb == "star"}}), " " + verb + "red");
    if (verb == "archive" || verb == "unarchive")
        return done(c.request("PATCH", base, {{"archived", verb == "archive"}}), " " + verb + "d");
    if (verb == "note") {
        auto text = m_a.word(3, "note");
        if (text == "-") {
            std::ostringstream in;
            in << std::cin.rdbuf();
            text = in.str();
        }
        return done(c.request("PATCH", base, {{"note", text}}),
                    text.empty() ? ": note removed"
                                 : ": note saved (" + std::to_string(text.size()) + " characters)");
    }
    if (verb == "tag") {
        Json tags = Json::object();
        std::string said;
        for (std::size_t i = 3; i < m_a.words.size(); ++i) {
            const auto& w = m_a.words[i];
            const auto eq = w.find('=');
            if (eq == std::string::npos || eq == 0)
                throw CliError("a tag is KEY=VALUE (KEY= for an empty value), not '" + w + "'");
            tags[w.substr(0, eq)] = w.substr(eq + 1);
            said += (said.empty() ? "" : ", ") + w;
        }
        if (tags.empty())
            throw CliError("run tag " + std::to_string(id) + " needs at least one KEY=VALUE");
        return done(c.post(base + "/tags", {{"tags", tags}}),
                    (tags.size() == 1 ? ": tag " : ": tags ") + said);
    }
    if (verb == "untag") {
        Json run;
        std::string said;
        for (std::size_t i = 3; i < m_a.words.size(); ++i) {
            run = c.request("DELETE", base + "/tags/" + Api::percentEncode(m_a.words[i]));
            said += (said.empty() ? "" : ", ") + m_a.words[i];
        }
        return done(run, ": tag " + said + " removed");
    }
    if (verb == "delete") {
        if (!m_a.has("yes")) {
            const auto run = c.get(base);
            if (!::isatty(STDIN_FILENO))
                throw CliError("deleting run " + std::to_string(id) +
                               " removes its metrics, logs and files for good: add --yes to do it");
            m_err << "Delete run " << id << " (" << run["name"].get<std::string>() << ", "
                  << run["status"].get<std::string>() << ") with its metrics, logs and files? [y/N] "
                  << std::flush;
            std::string answer;
            std::getline(std::cin, answer);
            if (answer != "y" && answer != "Y" && answer != "yes") {
                m_err << "kept run " << id << "\n";
                return 1;
            }
        }
        const auto result = c.request("DELETE", base);
        m_json ? print(result)
               : void(m_out << "deleted run " << id << " ("
                            << bytes(result["bytes_freed"].get<std::int64_t>()) << " freed)\n");
        return 0;
    }
    if (verb == "again") {
        auto run = c.runAgain(id);
        m_json ? print(run) : void(m_out << run["id"] << "\n");
        return 0;
    }
    if (verb == "show") {
        auto run = c.get(base);
        auto metrics = c.get(base + "/metrics");
        if (m_json) {
            run["metrics"] = metrics;
            print(run);
        } else {
            printRun(run);
            // The script's metrics; of the supervisor's system metrics (sys/...), the run's summary only
            // (`kiln run metrics ID` lists them all).
            Json system = Json::object();
            for (const auto& k : metrics) {
                const auto key = k["key"].get<std::string>();
                if (Metrics::isSystemKey(key)) {
                    system[key] = k["last"];
                    continue;
                }
                m_out << "  " << std::left << std::setw(24) << key << " last " << number(k["last"])
                      << " (step " << k["last_step"] << ", " << k["count"] << " points)\n";
            }
            if (const auto summary = Metrics::systemSummary(system); !summary.empty())
                m_out << "  System: " << summary << "\n";
        }
        return 0;
    }
    if (verb == "wait" || verb == "logs") {
        const bool showLogs = verb == "logs" || m_a.has("show-output");
        const bool follow = verb == "wait" || m_a.has("follow");
        Json last;
        Json allLines = Json::array();
        auto onFeed = [&](const Json& f) {
            last = f["run"];
            if (showLogs) {
                for (const auto& l : f["logs"]) {
                    if (m_json) {
                        allLines.push_back(l);
                    } else {
                        const auto stream = l["stream"].get<std::string>();
                        m_out << (stream == "output" ? "" : "[" + stream + "] ")
                              << l["line"].get<std::string>() << "\n";
                    }
                }
                m_out.flush();
            }
            return true;
        };
        if (follow) {
            c.follow(id, onFeed);
        } else {
            Api::FeedCursor cursor;
            for (;;) {
                auto f = c.feed(id, cursor, 0);
                onFeed(f);
                if (f["logs"].empty())
                    break;
                cursor.logsAfter = f["cursor"]["logs_after"];
                cursor.metricsAfter = f["cursor"]["metrics_after"];
            }
        }
        if (m_json)
            print(verb == "logs" ? allLines : last);
        return verb == "wait" ? finalStatus(last) : 0;
    }
    if (verb == "metrics") {
        if (auto key = m_a.opt("key")) {
            auto h = c.get(base + "/metrics/history?key=" + Api::percentEncode(*key));
            if (m_json) {
                print(h);
            } else if (m_a.has("all")) {
                const auto& s = h["series"];
                m_out << "STEP\tVALUE\tTIME\n";
                for (std::size_t i = 0; i < s["steps"].size(); ++i)
                    m_out << s["steps"][i] << "\t" << s["values"][i].get<double>() << "\t"
                          << Util::formatTimestamp(s["timestamps"][i].get<double>()) << "\n";
            } else {
                // A summary: a long history is thousands of lines nobody reads (--all prints them).
                const auto& s = h["series"];
                const auto& values = s["values"];
                const auto n = values.size();
                if (n == 0)
                    throw CliError("run " + std::to_string(id) + " has no points of " + *key);
                std::size_t lo = 0, hi = 0;
                for (std::size_t i = 1; i < n; ++i) {
                    lo = values[i].get<double>() < values[lo].get<double>() ? i : lo;
                    hi = values[i].get<double>() > values[hi].get<double>() ? i : hi;
                }
                const auto at = [&](const char* what, std::size_t i) {
                    m_out << "  " << std::left << std::setw(7) << what << std::setw(14) << number(values[i])
                          << "step " << s["steps"][i] << ", "
                          << Util::formatTimestamp(s["timestamps"][i].get<double>()) << "\n";
                };
                m_out << *key << ": " << n << (n == 1 ? " point" : " points") << "\n";
                at("first", 0);
                at("last", n - 1);
                at("min", lo);
                at("max", hi);
                if (n > 1)
                    m_err << "(every point: kiln run metrics " << id << " --key " << *key << " --all)\n";
            }
        } else {
            auto keys = c.get(base + "/metrics");
            if (m_json) {
                print(keys);
            } else {
                // The script's metrics first, then the supervisor's system metrics (sys/...).
                std::stable_partition(keys.begin(), keys.end(), [](const Json& k) {
                    return !k["key"].get<std::string>().starts_with("sys/");
                });
                m_out << std::left << std::setw(28) << "KEY" << std::setw(10) << "POINTS" << std::setw(14)
                      << "LAST" << std::setw(14) << "MIN"
                      << "MAX\n";
                for (const auto& k : keys)
                    m_out << std::setw(28) << k["key"].get<std::string>() << std::setw(10)
                          << k["count"].get<std::int64_t>() << std::setw(14) << number(k["last"])
                          << std::setw(14) << number(k["min"]) << number(k["max"]) << "\n";
            }
        }
        return 0;
    }
    if (verb == "cancel") {
        auto run = c.post(base + "/cancel", Json::object());
        m_json ? print(run)
               : void(m_out << "cancel requested for run " << id << " (" << run["status"].get<std::string>()
                            << ")\n");
        return 0;
    }
    if (verb == "files") {
        auto files = c.get(base + "/files");
        if (m_json) {
            print(files);
        } else {
            for (const auto& f : files)
                m_out << std::left << std::setw(12) << f["size"].get<std::int64_t>()
                      << f["sha256"].get<std::string>().substr(0, 16) << "  " << f["path"].get<std::string>()
                      << "\n";
        }
        return 0;
    }
    if (verb == "download") {
        const auto path = m_a.word(3, "run file or folder (e.g. outputs/model)");
        auto prefix = Util::safeRelativePath(path);
        if (!prefix)
            throw CliError("not a path inside the run: " + path);
        // A folder keeps its name: outputs/model -> DEST/model/...; a file lands as DEST/<its name>.
        const auto leaf = fs::path(*prefix).filename().string();
        std::vector<Transfer::RemoteFile> files;
        for (const auto& f : c.get(base + "/files")) {
            const auto remote = f["path"].get<std::string>();
            std::string local;
            if (remote == *prefix)
                local = leaf;
            else if (remote.starts_with(*prefix + "/"))
                local = leaf + "/" + remote.substr(prefix->size() + 1);
            else
                continue;
            files.push_back({local, f["sha256"].get<std::string>(), f["size"].get<std::int64_t>(),
                             Transfer::fileUrl(base + "/files", remote)});
        }
        if (files.empty())
            throw CliError("run " + std::to_string(id) + " has no file or folder " + *prefix);
        downloadFiles(files, m_a.need("dest"), "run-" + std::to_string(id) + "-" + leaf);
        return 0;
    }
    throw CliError("unknown run verb: " + verb);
}

} // namespace Kiln::Cli
