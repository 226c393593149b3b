#include "Cli.h"

#include "cli/Command.h"

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
    {"slurm-token", true},  {"partition", true},  {"run", true},          {"force", false},
    {"format", true},       {"untag", true},      {"archive", false},     {"unarchive", false}};

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

} // namespace

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

Command::Command(const Args& a, std::ostream& out, std::ostream& err)
    : m_a(a)
    , m_out(out)
    , m_err(err) {
    m_json = a.has("json");
}

Command::~Command() = default;

Workspace::Location Command::location() const {
    return Workspace::locate(m_a.opt("workspace"));
}

Api::Client& Command::client() {
    if (!m_client) {
        auto loc = location();
        if (loc.remote()) {
            Api::Client::setDefaultCaFile(loc.caFile);
            m_client =
                std::make_unique<Api::Client>(loc.url, loc.token, std::chrono::seconds(60), loc.caFile);
        } else {
            auto info = Workspace::ensureServer(loc.dir);
            Api::Client::setDefaultCaFile(info.caFile);
            m_client =
                std::make_unique<Api::Client>(info.url, info.token, std::chrono::seconds(60), info.caFile);
        }
    }
    return *m_client;
}

void Command::print(const Json& j) {
    m_out << j.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

int Command::workspace() {
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

int Command::server() {
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
            m_out << (info ? "running: " + info->url + " (pid " + std::to_string(info->pid) + ")" : "stopped")
                  << "\n";
        return 0;
    }
    if (verb == "stop") {
        auto info = Workspace::runningServer(loc.dir);
        if (!info) {
            m_json ? print({{"stopped", true}}) : void(m_out << "kilnd was not running\n");
            return 0;
        }
        Api::Client c(info->url, info->token, std::chrono::seconds(60), info->caFile);
        c.post("/api/v1/server/shutdown", Json::object());
        // Wait for the process itself to end (it closes the database last), not just for the listener.
        for (int i = 0;
             i < 400 && (Workspace::runningServer(loc.dir) || ::kill(static_cast<pid_t>(info->pid), 0) == 0);
             ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        m_json ? print({{"stopped", true}}) : void(m_out << "kilnd stopped (runs keep going)\n");
        return 0;
    }
    throw CliError("unknown server verb: " + verb);
}

std::string usage() {
    return R"(kiln: the Kiln command line (a client of the workspace server kilnd)

  kiln workspace init DIR | info
  kiln server start | stop | status
  kiln dataset register --name N (--path P... | --url U...) [--description D] [--tag k=v]... [--new-version]
  kiln dataset list | show N[:V] | download N[:V] --dest DIR [--format folder|zip|tar.gz]
  kiln env create --name N (--conda-file F | --requirements F | --python PATH|VERSION) [--docker-image I]
                  [--find-links DIR]... [--index-url URL] [--no-index] [--var NAME=VALUE]...
  kiln env list | show N[:V] | build N[:V]
  kiln compute create --name N [--type local] [--max-nodes K] [--min-nodes K] [--idle-seconds S] [--cpus C]
                      [--memory-mb M]
  kiln compute list | show N
  kiln run submit --experiment E --source DIR --script S [--name N] [--env N[:V]] [--compute local] -- ARGS...
  kiln run list [--experiment E] [--limit N]
  kiln run show ID | wait ID [--show-output] | logs ID [--follow] | again ID
  kiln run metrics ID [--key K] | cancel ID | files ID | download ID PATH --dest DIR [--format F]
  kiln model register --run ID --name N --path outputs/model [--description D] [--tag k=v]... [--force]
  kiln model list | show N[:V] | download N[:V] --dest DIR [--format folder|zip|tar.gz]
  kiln model update N:V [--description D] [--tag k=v]... [--untag k]... [--archive | --unarchive]

Run arguments may name datasets: {dataset:NAME}, {dataset:NAME:VERSION}, optionally ending in :download
for a private writable copy instead of a read-only folder.
Every command takes --workspace DIR (else $KILN_WORKSPACE, a .kiln/config.json above the current
folder, or the default local workspace) and --json (machine-readable output).
Downloads check every file's SHA-256, resume after a dropped connection, and leave nothing behind when
they fail; an archive is written as DEST/<name>-<version>.zip (or .tar.gz).
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
        if (noun == "model")
            return cmd.models();
        throw CliError("unknown command: " + noun + " (see kiln --help)");
    } catch (const Api::ClientError& e) {
        err << "kiln: " << e.what() << "\n";
    } catch (const std::exception& e) {
        err << "kiln: " << e.what() << "\n";
    }
    return 2;
}

} // namespace Kiln::Cli
