#include "Cli.h"

#include "api/Client.h"
#include "api/Http.h"
#include "store/BlobStore.h"
#include "store/Database.h"
#include "util/Fs.h"
#include "util/Json.h"
#include "workspace/Workspace.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Cli {

namespace {

class CliError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parsed command line: positional words, --flags (repeatable), and everything after `--`.
struct Args {
    std::vector<std::string> words;
    std::map<std::string, std::vector<std::string>> flags;
    std::vector<std::string> rest;

    bool has(const std::string& f) const { return flags.count(f) > 0; }
    std::optional<std::string> opt(const std::string& f) const {
        auto it = flags.find(f);
        return it == flags.end() || it->second.empty() ? std::nullopt : std::optional(it->second.back());
    }
    std::string need(const std::string& f) const {
        auto v = opt(f);
        if (!v)
            throw CliError("missing --" + f);
        return *v;
    }
    std::string word(std::size_t i, const char* what) const {
        if (i >= words.size())
            throw CliError(std::string("missing ") + what);
        return words[i];
    }
};

const std::map<std::string, bool> kFlagTakesValue = {
    {"workspace", true},    {"json", false},      {"experiment", true},   {"source", true},
    {"script", true},       {"compute", true},    {"env", true},          {"name", true},
    {"show-output", false}, {"follow", false},    {"key", true},          {"dest", true},
    {"port", true},         {"limit", true},      {"help", false},        {"version", false},
    {"path", true},         {"url", true},        {"description", true},  {"new-version", false},
    {"tag", true},          {"conda-file", true}, {"requirements", true}, {"python", true},
    {"docker-image", true}, {"find-links", true}, {"index-url", true},    {"no-index", false},
    {"var", true},          {"type", true},       {"max-nodes", true},    {"min-nodes", true},
    {"idle-seconds", true}, {"cpus", true},       {"memory-mb", true},    {"slurm-url", true},
    {"slurm-token", true},  {"partition", true}};

Args parse(const std::vector<std::string>& argv) {
    Args a;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const auto& s = argv[i];
        if (s == "--") {
            a.rest.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());
            break;
        }
        if (s.starts_with("--")) {
            auto name = s.substr(2);
            std::optional<std::string> value;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            auto it = kFlagTakesValue.find(name);
            if (it == kFlagTakesValue.end())
                throw CliError("unknown option --" + name + " (see kiln --help)");
            if (it->second && !value) {
                if (i + 1 >= argv.size())
                    throw CliError("--" + name + " needs a value");
                value = argv[++i];
            }
            a.flags[name].push_back(value.value_or(""));
        } else if (s == "-h") {
            a.flags["help"].push_back("");
        } else {
            a.words.push_back(s);
        }
    }
    return a;
}

std::int64_t parseRunId(const std::string& s) {
    try {
        std::size_t used = 0;
        auto v = std::stoll(s, &used);
        if (used == s.size() && v > 0)
            return v;
    } catch (...) {
    }
    throw CliError("not a run id: " + s);
}

std::string duration(const Json& run) {
    if (run["started"].is_null())
        return "-";
    double end = run["ended"].is_null() ? Util::nowSeconds() : run["ended"].get<double>();
    auto secs = static_cast<long>(end - run["started"].get<double>());
    std::ostringstream s;
    if (secs >= 3600)
        s << secs / 3600 << "h" << (secs % 3600) / 60 << "m";
    else if (secs >= 60)
        s << secs / 60 << "m" << secs % 60 << "s";
    else
        s << secs << "s";
    return s.str();
}

std::string number(const Json& v) {
    if (!v.is_number())
        return "-";
    std::ostringstream s;
    s << std::setprecision(6) << v.get<double>();
    return s.str();
}

class Command {
public:
    Command(const Args& a, std::ostream& out, std::ostream& err)
        : m_a(a)
        , m_out(out)
        , m_err(err) {
        m_json = a.has("json");
    }

    Workspace::Location location() const { return Workspace::locate(m_a.opt("workspace")); }

    Api::Client& client() {
        if (!m_client) {
            auto loc = location();
            if (loc.remote()) {
                m_client = std::make_unique<Api::Client>(loc.url, loc.token);
            } else {
                auto info = Workspace::ensureServer(loc.dir);
                m_client = std::make_unique<Api::Client>(info.url, info.token);
            }
        }
        return *m_client;
    }

    void print(const Json& j) { m_out << j.dump(2, ' ', false, Json::error_handler_t::replace) << "\n"; }

    int workspace() {
        const auto verb = m_a.word(1, "workspace verb (init|info)");
        if (verb == "init") {
            fs::path dir = fs::absolute(m_a.word(2, "workspace folder"));
            fs::create_directories(dir);
            { Store::Database db(dir / "kiln.db"); }
            Store::BlobStore blobs(dir / "blobs");
            if (m_json)
                print({{"workspace", dir.string()}});
            else
                m_out << "Initialized workspace " << dir.string() << "\n";
            return 0;
        }
        if (verb == "info") {
            auto loc = location();
            Json info = {{"workspace", loc.remote() ? loc.url : loc.dir.string()},
                         {"found_by", loc.source},
                         {"remote", loc.remote()}};
            std::optional<Workspace::ServerInfo> server;
            if (!loc.remote())
                server = Workspace::runningServer(loc.dir);
            info["server"] = server ? Json(server->url) : Json(nullptr);
            if (server) {
                Api::Client c(server->url, server->token);
                info["experiments"] = c.get("/api/v1/experiments").size();
            }
            if (m_json) {
                print(info);
            } else {
                m_out << "Workspace: " << info["workspace"].get<std::string>() << " (" << loc.source << ")\n";
                m_out << "Server:    "
                      << (server ? server->url + " (pid " + std::to_string(server->pid) + ")" : "not running")
                      << "\n";
            }
            return 0;
        }
        throw CliError("unknown workspace verb: " + verb);
    }

    int server() {
        const auto verb = m_a.word(1, "server verb (start|stop|status)");
        auto loc = location();
        if (loc.remote())
            throw CliError("the workspace is remote (" + loc.url + "): its server is managed there");
        if (verb == "start") {
            auto info = Workspace::ensureServer(loc.dir);
            m_json ? print({{"url", info.url}, {"pid", info.pid}})
                   : void(m_out << "kilnd serving " << loc.dir.string() << " on " << info.url << " (pid "
                                << info.pid << ")\n");
            return 0;
        }
        if (verb == "status") {
            auto info = Workspace::runningServer(loc.dir);
            if (m_json)
                print({{"running", info.has_value()}, {"url", info ? Json(info->url) : Json(nullptr)}});
            else
                m_out << (info ? "running: " + info->url + " (pid " + std::to_string(info->pid) + ")"
                               : "stopped")
                      << "\n";
            return 0;
        }
        if (verb == "stop") {
            auto info = Workspace::runningServer(loc.dir);
            if (!info) {
                m_json ? print({{"stopped", true}}) : void(m_out << "kilnd was not running\n");
                return 0;
            }
            Api::Client c(info->url, info->token);
            c.post("/api/v1/server/shutdown", Json::object());
            // Wait for the process itself to end (it closes the database last), not just for the listener.
            for (int i = 0; i < 400 && (Workspace::runningServer(loc.dir) ||
                                        ::kill(static_cast<pid_t>(info->pid), 0) == 0);
                 ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            m_json ? print({{"stopped", true}}) : void(m_out << "kilnd stopped (runs keep going)\n");
            return 0;
        }
        throw CliError("unknown server verb: " + verb);
    }

    static std::string bytes(std::int64_t n) {
        std::ostringstream s;
        s << std::fixed << std::setprecision(1);
        if (n >= (1ll << 30))
            s << n / double(1ll << 30) << " GB";
        else if (n >= (1 << 20))
            s << n / double(1 << 20) << " MB";
        else if (n >= 1024)
            s << n / 1024.0 << " kB";
        else
            s << n << " B";
        return s.str();
    }

    // NAME or NAME:VERSION -> the API path of that version ("latest" when no version is given).
    static std::string versionPath(const std::string& spec) {
        auto colon = spec.find(':');
        const auto name = spec.substr(0, colon);
        const auto version = colon == std::string::npos ? std::string("latest") : spec.substr(colon + 1);
        return "/api/v1/datasets/" + Api::percentEncode(name) + "/versions/" + Api::percentEncode(version);
    }

    int datasets() {
        const auto verb = m_a.word(1, "dataset verb (register|list|show|download)");
        auto& c = client();
        if (verb == "register") {
            Json sources = Json::array();
            if (location().remote() && m_a.has("path"))
                throw CliError("--path registers files kilnd can read; this workspace is remote: use --url");
            if (m_a.flags.count("path"))
                for (const auto& p : m_a.flags.at("path"))
                    sources.push_back({{"path", fs::absolute(p).lexically_normal().string()}});
            if (m_a.flags.count("url"))
                for (const auto& u : m_a.flags.at("url"))
                    sources.push_back({{"url", u}});
            if (sources.empty())
                throw CliError("give at least one --path or --url");
            Json tags = Json::object();
            if (m_a.flags.count("tag"))
                for (const auto& t : m_a.flags.at("tag")) {
                    auto eq = t.find('=');
                    if (eq == std::string::npos || eq == 0)
                        throw CliError("--tag takes key=value: " + t);
                    tags[t.substr(0, eq)] = t.substr(eq + 1);
                }
            Json body = {{"name", m_a.need("name")},
                         {"description", m_a.opt("description").value_or("")},
                         {"tags", tags},
                         {"new_version", m_a.has("new-version")},
                         {"sources", sources}};
            const auto job = c.post("/api/v1/datasets", body)["job"].get<std::int64_t>();
            const bool tty = ::isatty(2) && !m_json;
            auto result = c.waitJob(job, [&](const Json& j) {
                if (!tty || !j["progress"].contains("bytes_done"))
                    return;
                const auto& p = j["progress"];
                m_err << "\r" << p["files_done"].get<std::int64_t>() << "/"
                      << p["file_count"].get<std::int64_t>() << " files, "
                      << bytes(p["bytes_done"].get<std::int64_t>()) << " at "
                      << bytes(static_cast<std::int64_t>(p["bytes_per_second"].get<double>())) << "/s   "
                      << std::flush;
            });
            if (tty)
                m_err << "\n";
            if (m_json)
                print(result);
            else
                m_out << result["message"].get<std::string>() << "\n";
            return 0;
        }
        if (verb == "list") {
            auto list = c.get("/api/v1/datasets");
            if (m_json) {
                print(list);
                return 0;
            }
            m_out << std::left << std::setw(28) << "NAME" << std::setw(9) << "VERSION" << std::setw(8)
                  << "FILES" << std::setw(11) << "SIZE" << std::setw(20) << "CREATED"
                  << "DESCRIPTION\n";
            for (const auto& d : list)
                m_out << std::setw(28) << d["name"].get<std::string>() << std::setw(9)
                      << d["version"].get<int>() << std::setw(8) << d["file_count"].get<std::int64_t>()
                      << std::setw(11) << bytes(d["total_size"].get<std::int64_t>()) << std::setw(20)
                      << Util::formatTimestamp(d["created"].get<double>())
                      << d["description"].get<std::string>() << "\n";
            return 0;
        }
        const auto spec = m_a.word(2, "dataset (NAME or NAME:VERSION)");
        auto version = c.get(versionPath(spec));
        if (verb == "show") {
            if (m_json) {
                print(version);
                return 0;
            }
            m_out << "Dataset " << version["name"].get<std::string>() << " version "
                  << version["version"].get<int>()
                  << "\n  Created:     " << Util::formatTimestamp(version["created"].get<double>())
                  << "\n  Description: " << version["description"].get<std::string>()
                  << "\n  Tags:        " << version["tags"].dump()
                  << "\n  Files:       " << version["file_count"].get<std::int64_t>() << " ("
                  << bytes(version["total_size"].get<std::int64_t>()) << ")\n";
            for (const auto& f : version["files"])
                m_out << "    " << std::left << std::setw(12) << f["size"].get<std::int64_t>()
                      << f["sha256"].get<std::string>() << "  " << f["path"].get<std::string>() << "\n";
            if (!version["runs"].empty()) {
                m_out << "  Used by runs:";
                for (const auto& r : version["runs"])
                    m_out << " " << r["id"].get<std::int64_t>();
                m_out << "\n";
            }
            return 0;
        }
        if (verb == "download") {
            const fs::path dest = m_a.need("dest");
            Json done = Json::array();
            for (const auto& f : version["files"]) {
                const auto remote = f["path"].get<std::string>();
                if (!Util::safeRelativePath(remote))
                    throw CliError("the server sent an unsafe file name: " + remote);
                std::string encoded;
                for (const auto& part : Api::splitPath(remote))
                    encoded += "/" + Api::percentEncode(part);
                c.download(versionPath(version["name"].get<std::string>() + ":" +
                                       std::to_string(version["version"].get<int>())) +
                               "/files" + encoded,
                           dest / remote);
                done.push_back({{"path", remote}, {"local", (dest / remote).string()}});
                if (!m_json)
                    m_out << (dest / remote).string() << "\n";
            }
            if (m_json)
                print(done);
            return 0;
        }
        throw CliError("unknown dataset verb: " + verb);
    }

    int environments() {
        const auto verb = m_a.word(1, "env verb (create|list|show|build)");
        auto& c = client();
        auto readText = [](const std::string& path) {
            auto text = Util::tryReadFile(path);
            if (!text)
                throw CliError("cannot read " + path);
            return *text;
        };
        if (verb == "create") {
            Json body = {{"name", m_a.need("name")}};
            if (auto f = m_a.opt("conda-file"))
                body["conda_yaml"] = readText(*f);
            if (auto f = m_a.opt("requirements"))
                body["requirements"] = readText(*f);
            if (auto p = m_a.opt("python"))
                body["python"] = *p;
            if (auto d = m_a.opt("docker-image"))
                body["docker_image"] = *d;
            if (auto i = m_a.opt("index-url"))
                body["index_url"] = *i;
            body["no_index"] = m_a.has("no-index");
            Json links = Json::array();
            if (m_a.flags.count("find-links"))
                for (const auto& l : m_a.flags.at("find-links"))
                    links.push_back(l.find("://") == std::string::npos ? fs::absolute(l).string() : l);
            body["find_links"] = links;
            Json vars = Json::object();
            if (m_a.flags.count("var"))
                for (const auto& v : m_a.flags.at("var")) {
                    auto eq = v.find('=');
                    if (eq == std::string::npos || eq == 0)
                        throw CliError("--var takes NAME=VALUE: " + v);
                    vars[v.substr(0, eq)] = v.substr(eq + 1);
                }
            body["variables"] = vars;
            if (!body.contains("conda_yaml") && !body.contains("requirements") && !body.contains("python"))
                throw CliError("give --conda-file, --requirements or --python");
            auto r = c.post("/api/v1/environments", body);
            const auto& e = r["environment"];
            if (m_json)
                print(r);
            else
                m_out << (r["created"].get<bool>() ? "created " : "unchanged: ")
                      << e["name"].get<std::string>() << ":" << e["version"].get<int>()
                      << (r["created"].get<bool>() ? "" : " has this spec already") << "\n";
            return 0;
        }
        if (verb == "list") {
            auto list = c.get("/api/v1/environments");
            if (m_json) {
                print(list);
                return 0;
            }
            m_out << std::left << std::setw(28) << "NAME" << std::setw(9) << "VERSION" << std::setw(8)
                  << "BUILT" << std::setw(12) << "PYTHON"
                  << "PIP PACKAGES\n";
            for (const auto& e : list) {
                std::string pip;
                for (const auto& p : e["spec"]["pip"])
                    pip += (pip.empty() ? "" : " ") + p.get<std::string>();
                const auto python = e["spec"]["python"].get<std::string>();
                m_out << std::setw(28) << e["name"].get<std::string>() << std::setw(9)
                      << e["version"].get<int>() << std::setw(8) << (e["built"].get<bool>() ? "yes" : "no")
                      << std::setw(12) << (python.empty() ? "system" : python) << pip << "\n";
            }
            return 0;
        }
        const auto spec = m_a.word(2, "environment (NAME or NAME:VERSION)");
        const auto colon = spec.find(':');
        const auto path =
            "/api/v1/environments/" + Api::percentEncode(spec.substr(0, colon)) + "/versions/" +
            (colon == std::string::npos ? std::string("latest") : Api::percentEncode(spec.substr(colon + 1)));
        if (verb == "show") {
            auto v = c.get(path);
            if (m_json) {
                print(v);
                return 0;
            }
            const auto& s = v["spec"];
            m_out << "Environment " << v["name"].get<std::string>() << " version " << v["version"].get<int>()
                  << "\n  Python:       "
                  << (s["python"].get<std::string>().empty() ? "system python3"
                                                             : s["python"].get<std::string>())
                  << "\n  Pip:          " << s["pip"].dump() << "\n  Variables:    " << s["variables"].dump()
                  << "\n  Find links:   " << s["find_links"].dump()
                  << "\n  Docker image: " << s["docker_image"].get<std::string>()
                  << " (kept for container backends; local venv builds do not use it)"
                  << "\n  Built:        " << (v["built"].get<bool>() ? "yes" : "no") << " (cache key "
                  << v["spec_hash"].get<std::string>().substr(0, 12) << ")\n";
            if (!v["runs"].empty()) {
                m_out << "  Used by runs:";
                for (const auto& r : v["runs"])
                    m_out << " " << r["id"].get<std::int64_t>();
                m_out << "\n";
            }
            return 0;
        }
        if (verb == "build") {
            const auto job = c.post(path + "/build", Json::object())["job"].get<std::int64_t>();
            std::size_t printed = 0;
            auto show = [&](const Json& log) {
                for (; printed < log.size(); ++printed)
                    if (!m_json)
                        m_out << log[printed].get<std::string>() << "\n" << std::flush;
            };
            auto result = c.waitJob(job, [&](const Json& j) {
                if (j["progress"].contains("log"))
                    show(j["progress"]["log"]);
            });
            show(result["log"]);
            if (m_json)
                print(result);
            else
                m_out << (result["reused"].get<bool>() ? "already built: " : "built: ")
                      << result["prefix"].get<std::string>() << "\n";
            return 0;
        }
        throw CliError("unknown env verb: " + verb);
    }

    int compute() {
        const auto verb = m_a.word(1, "compute verb (create|list|show)");
        auto& c = client();
        auto number = [this](const char* flag) -> std::optional<int> {
            auto v = m_a.opt(flag);
            if (!v)
                return std::nullopt;
            try {
                std::size_t used = 0;
                int n = std::stoi(*v, &used);
                if (used == v->size())
                    return n;
            } catch (...) {
            }
            throw CliError(std::string("--") + flag + " takes a whole number");
        };
        if (verb == "create") {
            Json body = {{"name", m_a.need("name")}, {"type", m_a.opt("type").value_or("local")}};
            for (auto [flag, key] : {std::pair{"max-nodes", "max_nodes"},
                                     {"min-nodes", "min_nodes"},
                                     {"idle-seconds", "idle_seconds"},
                                     {"cpus", "cpus"},
                                     {"memory-mb", "memory_mb"}})
                if (auto n = number(flag))
                    body[key] = *n;
            if (auto u = m_a.opt("slurm-url"))
                body["slurm_url"] = *u;
            if (auto t = m_a.opt("slurm-token"))
                body["slurm_token"] = *t;
            if (auto p = m_a.opt("partition"))
                body["partition"] = *p;
            auto t = c.post("/api/v1/compute", body);
            if (t.contains("job")) { // provisioning a cluster: follow its steps
                std::string last;
                t = c.waitJob(t["job"].get<std::int64_t>(), [&](const Json& j) {
                    const auto step = j["progress"].value("step", std::string());
                    if (!m_json && !step.empty() && step != last)
                        m_err << "provisioning: " << step << "\n";
                    last = step;
                });
            }
            m_json ? print(t)
                   : void(m_out << "created " << t["type"].get<std::string>() << " compute "
                                << t["name"].get<std::string>() << " (" << t["config"]["max_nodes"].get<int>()
                                << " nodes): " << t["state"].get<std::string>() << "\n");
            return 0;
        }
        if (verb == "list") {
            auto list = c.get("/api/v1/compute");
            if (m_json) {
                print(list);
                return 0;
            }
            m_out << std::left << std::setw(20) << "NAME" << std::setw(8) << "TYPE" << std::setw(12)
                  << "STATE" << std::setw(8) << "NODES" << std::setw(8) << "IN USE"
                  << "QUEUED\n";
            for (const auto& t : list)
                m_out << std::setw(20) << t["name"].get<std::string>() << std::setw(8)
                      << t["type"].get<std::string>() << std::setw(12) << t["state"].get<std::string>()
                      << std::setw(8) << t["config"]["max_nodes"].get<int>() << std::setw(8)
                      << t["nodes_in_use"].get<int>() << t["queued"].get<int>() << "\n";
            return 0;
        }
        if (verb == "show") {
            auto t = c.get("/api/v1/compute/" + Api::percentEncode(m_a.word(2, "compute target name")));
            if (m_json) {
                print(t);
                return 0;
            }
            const auto& cfg = t["config"];
            m_out << "Compute " << t["name"].get<std::string>() << " (" << t["type"].get<std::string>()
                  << ", " << t["state"].get<std::string>() << ")\n  Nodes: " << cfg["max_nodes"].get<int>()
                  << " (min " << cfg["min_nodes"].get<int>() << ", idle after "
                  << cfg["idle_seconds"].get<int>() << " s)";
            if (cfg["cpus"].get<int>() > 0)
                m_out << ", " << cfg["cpus"].get<int>() << " CPUs per run";
            if (cfg["memory_mb"].get<std::int64_t>() > 0)
                m_out << ", " << cfg["memory_mb"].get<std::int64_t>() << " MB per run";
            m_out << "\n";
            for (const auto& n : t["nodes"])
                m_out << "    " << std::left << std::setw(20) << n["name"].get<std::string>() << std::setw(7)
                      << n["state"].get<std::string>()
                      << (n["run"].is_null() ? "" : "run " + std::to_string(n["run"].get<std::int64_t>()))
                      << "\n";
            if (!t["queue"].empty()) {
                m_out << "  Queue:";
                for (const auto& q : t["queue"])
                    m_out << " " << q["id"].get<std::int64_t>();
                m_out << "\n";
            }
            return 0;
        }
        throw CliError("unknown compute verb: " + verb);
    }

    void printRunLine(const Json& r) {
        m_out << std::left << std::setw(6) << r["id"].get<std::int64_t>() << std::setw(11)
              << r["status"].get<std::string>() << std::setw(24)
              << r["experiment"].get<std::string>().substr(0, 23) << std::setw(20)
              << Util::formatTimestamp(r["created"].get<double>()) << std::setw(9) << duration(r)
              << r["name"].get<std::string>() << "\n";
    }

    void printRun(const Json& r) {
        m_out << "Run " << r["id"] << ": " << r["name"].get<std::string>() << "\n"
              << "  Status:     " << r["status"].get<std::string>() << "\n"
              << "  Experiment: " << r["experiment"].get<std::string>() << "\n"
              << "  Script:     " << r["script"].get<std::string>();
        for (const auto& a : r["args"])
            m_out << " " << a.get<std::string>();
        if (!r["node"].get<std::string>().empty())
            m_out << "\n  Compute:    " << r["compute"].get<std::string>() << " (node "
                  << r["node"].get<std::string>() << ")";
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
        if (r.contains("environment") && r["environment"].is_object())
            m_out << "  Environment: " << r["environment"]["name"].get<std::string>() << ":"
                  << r["environment"]["version"].get<int>() << "\n";
        if (r.contains("datasets"))
            for (const auto& d : r["datasets"])
                m_out << "  Dataset:    " << d["name"].get<std::string>() << ":" << d["version"].get<int>()
                      << " (" << d["mode"].get<std::string>() << ")\n";
    }

    int finalStatus(const Json& run) {
        const auto status = run["status"].get<std::string>();
        if (status == "Completed")
            return 0;
        if (!m_json) {
            auto error = run["error"].get<std::string>();
            m_err << "run " << run["id"] << " " << status << (error.empty() ? "" : ": " + error) << "\n";
        }
        return 1;
    }

    int runs() {
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
            auto run = c.submit(req);
            m_json ? print(run) : void(m_out << run["id"] << "\n");
            return 0;
        }
        if (verb == "list") {
            std::string q = "/api/v1/runs?limit=" + m_a.opt("limit").value_or("100");
            if (auto e = m_a.opt("experiment"))
                q += "&experiment=" + Api::percentEncode(*e);
            auto list = c.get(q);
            if (m_json) {
                print(list);
            } else {
                m_out << std::left << std::setw(6) << "ID" << std::setw(11) << "STATUS" << std::setw(24)
                      << "EXPERIMENT" << std::setw(20) << "CREATED" << std::setw(9) << "TIME"
                      << "NAME\n";
                for (const auto& r : list)
                    printRunLine(r);
            }
            return 0;
        }
        const auto id = parseRunId(m_a.word(2, "run id"));
        const auto base = "/api/v1/runs/" + std::to_string(id);
        if (verb == "show") {
            auto run = c.get(base);
            auto metrics = c.get(base + "/metrics");
            if (m_json) {
                run["metrics"] = metrics;
                print(run);
            } else {
                printRun(run);
                for (const auto& k : metrics)
                    m_out << "  " << std::left << std::setw(24) << k["key"].get<std::string>() << " last "
                          << number(k["last"]) << " (step " << k["last_step"] << ", " << k["count"]
                          << " points)\n";
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
                } else {
                    const auto& s = h["series"];
                    m_out << "STEP\tVALUE\tTIME\n";
                    for (std::size_t i = 0; i < s["steps"].size(); ++i)
                        m_out << s["steps"][i] << "\t" << s["values"][i].get<double>() << "\t"
                              << Util::formatTimestamp(s["timestamps"][i].get<double>()) << "\n";
                }
            } else {
                auto keys = c.get(base + "/metrics");
                if (m_json) {
                    print(keys);
                } else {
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
                   : void(m_out << "cancel requested for run " << id << " ("
                                << run["status"].get<std::string>() << ")\n");
            return 0;
        }
        if (verb == "files") {
            auto files = c.get(base + "/files");
            if (m_json) {
                print(files);
            } else {
                for (const auto& f : files)
                    m_out << std::left << std::setw(12) << f["size"].get<std::int64_t>()
                          << f["sha256"].get<std::string>().substr(0, 16) << "  "
                          << f["path"].get<std::string>() << "\n";
            }
            return 0;
        }
        if (verb == "download") {
            const auto path = m_a.word(3, "run file or folder (e.g. outputs/model)");
            const fs::path dest = m_a.need("dest");
            auto prefix = Util::safeRelativePath(path);
            if (!prefix)
                throw CliError("not a path inside the run: " + path);
            Json done = Json::array();
            for (const auto& f : c.get(base + "/files")) {
                const auto remote = f["path"].get<std::string>();
                // Never trust a server's file name with the local file system.
                if (!Util::safeRelativePath(remote))
                    throw CliError("the server sent an unsafe file name: " + remote);
                fs::path local;
                if (remote == *prefix)
                    local = dest / fs::path(remote).filename();
                else if (remote.starts_with(*prefix + "/"))
                    local = dest / fs::path(*prefix).filename() / remote.substr(prefix->size() + 1);
                else
                    continue;
                std::string encoded;
                for (const auto& part : Api::splitPath(remote))
                    encoded += "/" + Api::percentEncode(part);
                c.download(base + "/files" + encoded, local);
                done.push_back({{"path", remote}, {"local", local.string()}, {"sha256", f["sha256"]}});
                if (!m_json)
                    m_out << local.string() << "\n";
            }
            if (done.empty())
                throw CliError("run " + std::to_string(id) + " has no file or folder " + *prefix);
            if (m_json)
                print(done);
            return 0;
        }
        throw CliError("unknown run verb: " + verb);
    }

private:
    const Args& m_a;
    std::ostream& m_out;
    std::ostream& m_err;
    bool m_json = false;
    std::unique_ptr<Api::Client> m_client;
};

} // namespace

std::string usage() {
    return R"(kiln: the Kiln command line (a client of the workspace server kilnd)

  kiln workspace init DIR | info
  kiln server start | stop | status
  kiln dataset register --name N (--path P... | --url U...) [--description D] [--tag k=v]... [--new-version]
  kiln dataset list | show N[:V] | download N[:V] --dest DIR
  kiln env create --name N (--conda-file F | --requirements F | --python PATH|VERSION) [--docker-image I]
                  [--find-links DIR]... [--index-url URL] [--no-index] [--var NAME=VALUE]...
  kiln env list | show N[:V] | build N[:V]
  kiln compute create --name N [--type local] [--max-nodes K] [--min-nodes K] [--idle-seconds S] [--cpus C]
                      [--memory-mb M]
  kiln compute list | show N
  kiln run submit --experiment E --source DIR --script S [--name N] [--env N[:V]] [--compute local] -- ARGS...
  kiln run list [--experiment E] [--limit N]
  kiln run show ID | wait ID [--show-output] | logs ID [--follow]
  kiln run metrics ID [--key K] | cancel ID | files ID | download ID PATH --dest DIR

Run arguments may name datasets: {dataset:NAME}, {dataset:NAME:VERSION}, optionally ending in :download
for a private writable copy instead of a read-only folder.
Every command takes --workspace DIR (else $KILN_WORKSPACE, a .kiln/config.json above the current
folder, or the default local workspace) and --json (machine-readable output).
Exit status: 0 ok; 1 `run wait` on a run that did not complete; 2 an error.
)";
}

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    try {
        auto a = parse(argv);
        if (a.has("version")) {
            out << "kiln " << KILN_VERSION << "\n";
            return 0;
        }
        if (a.has("help") || a.words.empty()) {
            out << usage();
            return a.words.empty() && !a.has("help") ? 2 : 0;
        }
        if (a.words[0] == "version") {
            out << "kiln " << KILN_VERSION << "\n";
            return 0;
        }
        Command cmd(a, out, err);
        const auto& noun = a.words[0];
        if (noun == "workspace")
            return cmd.workspace();
        if (noun == "server")
            return cmd.server();
        if (noun == "run")
            return cmd.runs();
        if (noun == "dataset")
            return cmd.datasets();
        if (noun == "env")
            return cmd.environments();
        if (noun == "compute")
            return cmd.compute();
        throw CliError("unknown command: " + noun + " (see kiln --help)");
    } catch (const Api::ClientError& e) {
        err << "kiln: " << e.what() << "\n";
    } catch (const std::exception& e) {
        err << "kiln: " << e.what() << "\n";
    }
    return 2;
}

} // namespace Kiln::Cli
