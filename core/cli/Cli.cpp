#include "Cli.h"

#include "cli/Command.h"

#include "api/Client.h"
#include "api/Http.h"
#include "store/BlobStore.h"
#include "store/Database.h"
#include "util/Fs.h"
#include "util/Fuzzy.h"
#include "util/Json.h"
#include "workspace/Workspace.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
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

// The command line, declared once: every verb with its positional words and options. CLI11 parses
// against it (strictly: an unknown option, a missing value or an extra word is an error), prints each
// verb's --help from it, and `kiln completion bash` is generated from it.
enum class Kind {
    Value,  // --name N (once)
    Repeat, // --tag k=v, given any number of times
    Multi,  // --path a b c (several values after one flag, and/or the flag repeated)
    Flag    // --force
};
struct OptionSpec {
    const char* name;
    const char* help;
    Kind kind = Kind::Value;
    bool required = false;
};
struct PositionalSpec {
    const char* name;
    const char* help;
    bool many = false; // one or more (the last word only)
};
struct VerbSpec {
    const char* noun;
    const char* verb;
    const char* help;
    std::vector<PositionalSpec> words;
    std::vector<OptionSpec> options;
    bool scriptArgs = false; // takes `-- ARGS...`
};
struct NounSpec {
    const char* noun;
    const char* help;
};

const std::vector<NounSpec> kNouns = {
    {"workspace", "Create a workspace or tell which one is in use"},
    {"server", "Start, stop or check the workspace server (kilnd) of a local workspace"},
    {"dataset", "Register, list, show and download datasets"},
    {"env", "Create, list, show and build environments"},
    {"compute", "Create, list and show compute targets"},
    {"run", "Submit, follow, list, cancel and download runs"},
    {"model", "Register, list, show, update and download models"},
    {"sweep", "Submit, follow, list and cancel hyperparameter sweeps"},
    {"experiment", "List, rename and archive experiments"},
};

const OptionSpec kDescription{"description", "A description"};
const OptionSpec kTag{"tag", "A tag KEY=VALUE (repeat for more)", Kind::Repeat};
const OptionSpec kDest{"dest", "Folder to download into", Kind::Value, true};
const OptionSpec kFormat{"format", "folder (default), zip or tar.gz"};

const std::vector<VerbSpec> kVerbs = {
    {"workspace", "init", "Create a workspace folder", {{"DIR", "The workspace folder"}}, {}},
    {"workspace", "info", "Which workspace is in use, how it was found, and its server", {}, {}},
    {"workspace",
     "gc",
     "Remove stored files that nothing refers to any more (left by failed uploads and registrations)",
     {},
     {{"grace-seconds", "Keep unreferenced files younger than this (default 3600: uploads in flight)"}}},
    {"server", "start", "Start kilnd for the workspace (if it is not running)", {}, {}},
    {"server", "stop", "Stop kilnd (runs keep going)", {}, {}},
    {"server", "status", "Whether kilnd is running, and where", {}, {}},
    {"dataset",
     "register",
     "Register files, folders or URLs as a dataset (a new version with --new-version)",
     {},
     {{"name", "The dataset's name", Kind::Value, true},
      {"path", "Files or folders (several after one --path)", Kind::Multi},
      {"url", "http(s) URLs to download (several after one --url)", Kind::Multi},
      kDescription,
      kTag,
      {"new-version", "Make a new version of an existing dataset", Kind::Flag}}},
    {"dataset", "list", "List datasets", {}, {}},
    {"dataset", "show", "Show a dataset version and its files", {{"NAME[:VERSION]", "The dataset"}}, {}},
    {"dataset",
     "download",
     "Download a dataset version, verified",
     {{"NAME[:VERSION]", "The dataset"}},
     {kDest, kFormat}},
    {"env",
     "create",
     "Create an environment (or its next version)",
     {},
     {{"name", "The environment's name", Kind::Value, true},
      {"conda-file", "A conda-style YAML file (channels, dependencies, pip:)"},
      {"requirements", "A pip requirements file"},
      {"python", "An existing interpreter (PATH) or a Python version"},
      {"docker-image", "A container base image (recorded)"},
      {"find-links", "A folder of wheels for pip (repeat for more)", Kind::Repeat},
      {"index-url", "A package index URL for pip"},
      {"no-index", "Do not use any package index", Kind::Flag},
      {"var", "An environment variable NAME=VALUE (repeat for more)", Kind::Repeat}}},
    {"env", "list", "List environments", {}, {}},
    {"env", "show", "Show an environment version", {{"NAME[:VERSION]", "The environment"}}, {}},
    {"env",
     "build",
     "Build an environment now (its log streams)",
     {{"NAME[:VERSION]", "The environment"}},
     {}},
    {"compute",
     "create",
     "Create a compute target: a local pool or a Slurm cluster",
     {},
     {{"name", "The target's name", Kind::Value, true},
      {"type", "local (default) or slurm"},
      {"max-nodes", "Runs at once (local) or nodes (Slurm)"},
      {"cpus", "CPUs each run is pinned to (local)"},
      {"memory-mb", "Memory each run may hold (resident, whole process tree), in MB"},
      {"slurm-url", "slurmrestd's URL"},
      {"slurm-token", "A Slurm JWT"},
      {"partition", "The Slurm partition"}}},
    {"compute", "list", "List compute targets", {}, {}},
    {"compute", "show", "Show a compute target, its nodes and queue", {{"NAME", "The target"}}, {}},
    {"run",
     "submit",
     "Submit a script from a source folder; its arguments follow --",
     {},
     {{"experiment", "The experiment", Kind::Value, true},
      {"source", "The source folder (snapshotted)", Kind::Value, true},
      {"script", "The script, relative to the source folder", Kind::Value, true},
      {"name", "A name for the run"},
      {"env", "An environment NAME[:VERSION]"},
      {"compute", "A compute target (default: local)"},
      {"system-interval",
       "Seconds between samples of the run's CPU, memory, I/O and GPU use (sys/... metrics), "
       "0.2 to 60; 0 records none (default 1)"}},
     true},
    {"sweep",
     "submit",
     "Submit a hyperparameter sweep described by a YAML file (see README)",
     {},
     {{"config", "The sweep file", Kind::Value, true}}},
    {"sweep", "list", "List sweeps, newest first", {}, {{"limit", "At most this many (default 100)"}}},
    {"sweep",
     "show",
     "Show a sweep: its progress, trials (with the swept values) and best trial",
     {{"ID", "The sweep"}},
     {{"all", "Every parameter of each trial, not only the swept ones", Kind::Flag}}},
    {"sweep", "wait", "Wait for a sweep to end (exit 1 unless it completed)", {{"ID", "The sweep"}}, {}},
    {"sweep", "cancel", "Cancel a sweep and its live trials", {{"ID", "The sweep"}}, {}},
    {"run",
     "list",
     "List runs, newest first (or as --order-by says)",
     {},
     {{"experiment", "Only this experiment's runs"},
      {"filter", "Only runs matching an expression: 'metrics.acc > 0.9 and params.lr < 0.01' (see README)"},
      {"order-by", "Sort by a field: metrics.acc desc, params.lr, created..."},
      {"archived", "Include archived runs", Kind::Flag},
      {"limit", "At most this many (default 100)"},
      {"offset", "Skip this many first (to page on)"}}},
    {"run", "show", "Show a run", {{"ID", "The run"}}, {}},
    {"run", "rename", "Rename a run", {{"ID", "The run"}, {"NAME", "Its new name"}}, {}},
    {"run",
     "tag",
     "Tag a run",
     {{"ID", "The run"}, {"KEY=VALUE", "Tags (KEY= for an empty value)", true}},
     {}},
    {"run", "untag", "Remove tags from a run", {{"ID", "The run"}, {"KEY", "Tags to remove", true}}, {}},
    {"run",
     "note",
     "Set a run's note (Markdown; - reads it from stdin; \"\" clears it)",
     {{"ID", "The run"}, {"TEXT", "The note"}},
     {}},
    {"run", "star", "Star a run", {{"ID", "The run"}}, {}},
    {"run", "unstar", "Unstar a run", {{"ID", "The run"}}, {}},
    {"run",
     "archive",
     "Archive a run: hidden from listings unless asked for (--archived)",
     {{"ID", "The run"}},
     {}},
    {"run", "unarchive", "Bring an archived run back", {{"ID", "The run"}}, {}},
    {"run",
     "delete",
     "Delete an ended run with its metrics, logs and files, for good",
     {{"ID", "The run"}},
     {{"yes", "Do not ask (needed when not at a terminal)", Kind::Flag}}},
    {"experiment",
     "list",
     "List experiments with their run counts",
     {},
     {{"archived", "Include archived ones", Kind::Flag}}},
    {"experiment",
     "rename",
     "Rename an experiment",
     {{"NAME", "The experiment"}, {"NEW", "Its new name"}},
     {}},
    {"experiment",
     "archive",
     "Archive an experiment: its runs are hidden unless asked for",
     {{"NAME", "The experiment"}},
     {}},
    {"experiment", "unarchive", "Bring an archived experiment back", {{"NAME", "The experiment"}}, {}},
    {"run",
     "wait",
     "Wait for a run to end (exit 1 unless it completed)",
     {{"ID", "The run"}},
     {{"show-output", "Print its output as it comes", Kind::Flag}}},
    {"run",
     "logs",
     "Print a run's output",
     {{"ID", "The run"}},
     {{"follow", "Keep printing until it ends", Kind::Flag}}},
    {"run",
     "again",
     "Submit a run again: same snapshot, arguments, environment and compute",
     {{"ID", "The run"}},
     {}},
    {"run",
     "metrics",
     "A run's metrics, or one metric's summary (with --all: its every point)",
     {{"ID", "The run"}},
     {{"key", "One metric"}, {"all", "With --key: every point, not a summary", Kind::Flag}}},
    {"run", "cancel", "Cancel a run, in whatever state it is", {{"ID", "The run"}}, {}},
    {"run", "files", "List a run's files", {{"ID", "The run"}}, {}},
    {"run",
     "download",
     "Download a run's file or folder, verified",
     {{"ID", "The run"}, {"PATH", "A file or folder of the run (e.g. outputs/model)"}},
     {kDest, kFormat}},
    {"model",
     "register",
     "Register a model version from a run's files",
     {},
     {{"run", "The run", Kind::Value, true},
      {"name", "The model's name", Kind::Value, true},
      {"path", "The run's file or folder (e.g. outputs/model)", Kind::Value, true},
      kDescription,
      kTag,
      {"force", "Register from a run that did not complete", Kind::Flag}}},
    {"model", "list", "List models", {}, {}},
    {"model", "show", "Show a model version and its lineage", {{"NAME[:VERSION]", "The model"}}, {}},
    {"model",
     "update",
     "Change a model version's description, tags or archived state",
     {{"NAME:VERSION", "The model version"}},
     {kDescription,
      kTag,
      {"untag", "Remove a tag (repeat for more)", Kind::Repeat},
      {"archive", "Archive it", Kind::Flag},
      {"unarchive", "Bring it back", Kind::Flag}}},
    {"model",
     "download",
     "Download a model version, verified",
     {{"NAME[:VERSION]", "The model"}},
     {kDest, kFormat}},
};

// The parsed command line of one verb, read back into Args.
struct Parsed {
    CLI::App* verb = nullptr;
    const VerbSpec* spec = nullptr;
};

// An option's value as usage shows it: --max-nodes MAX_NODES.
std::string metavar(std::string_view name) {
    std::string out;
    for (char c : name)
        out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// kilnd names the API's fields ('max_nodes', "query parameter 'limit'"); say the option the user typed
// instead, with what was typed.
std::string inTheirWords(std::string message, const Args& a) {
    for (const auto& [name, values] : a.flags) {
        std::string field = name;
        std::replace(field.begin(), field.end(), '-', '_');
        for (const auto& quoted :
             {"query parameter '" + field + "'", "setting '" + field + "'", "'" + field + "'"}) {
            const auto at = message.find(quoted);
            if (at == std::string::npos)
                continue;
            const bool setting = quoted.starts_with("setting");
            message.replace(at, quoted.size(), (setting ? "setting --" : "--") + name);
            if (!values.empty() && !values.back().empty())
                message += " (you typed --" + name + " " + values.back() + ")";
            break;
        }
    }
    return message;
}

void buildApp(CLI::App& app, std::vector<Parsed>& verbs) {
    app.name("kiln");
    app.description("kiln: the Kiln command line (a client of the workspace server kilnd)");
    app.require_subcommand(0, 1);
    app.allow_extras(); // inherited: run() refuses them itself, in their order
    app.fallthrough();  // --workspace and --json anywhere
    app.add_option("--workspace", "The workspace: a folder or a server URL (else $KILN_WORKSPACE, a "
                                  ".kiln/config.json above this folder, or the default local workspace)");
    app.add_flag("--json")->description("Machine-readable output");
    app.add_flag("--version")->description("Print the version");
    app.footer("Exit status: 0 ok; 1 `run wait` or `sweep wait` on a run or sweep that did not complete; 2 "
               "an error.\n"
               "Run arguments may name datasets: {dataset:NAME}, {dataset:NAME:VERSION}, optionally ending "
               "in :download.");
    std::map<std::string, CLI::App*> nouns;
    for (const auto& n : kNouns) {
        auto* sub = app.add_subcommand(n.noun, n.help);
        sub->require_subcommand(1);
        sub->fallthrough();
        nouns[n.noun] = sub;
    }
    app.add_subcommand("version", "Print the version");
    app.add_subcommand("completion", "Print a bash completion script (`source <(kiln completion bash)`)")
        ->add_option("SHELL", "bash")
        ->required();
    for (const auto& v : kVerbs) {
        auto* sub = nouns.at(v.noun)->add_subcommand(v.verb, v.help);
        sub->fallthrough();
        for (const auto& w : v.words) {
            if (w.many) // (a vector's type takes every remaining word; results() reads them back)
                sub->add_option_function<std::vector<std::string>>(
                       w.name, [](const std::vector<std::string>&) {}, w.help)
                    ->required();
            else
                sub->add_option(w.name, w.help)->required();
        }
        for (const auto& o : v.options) {
            const std::string flag = std::string("--") + o.name;
            CLI::Option* opt = nullptr;
            if (o.kind == Kind::Flag) {
                opt = sub->add_flag(flag)->description(o.help);
            } else {
                opt = sub->add_option(flag, o.help);
                opt->type_name(metavar(o.name));
                if (o.kind == Kind::Multi)
                    opt->expected(CLI::detail::expected_max_vector_size)
                        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
                else if (o.kind == Kind::Repeat)
                    opt->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
            }
            if (o.required)
                opt->required();
        }
        verbs.push_back({sub, &v});
    }
}

std::string bashCompletion() {
    std::string nouns, cases;
    for (const auto& n : kNouns) {
        nouns += std::string(n.noun) + " ";
        std::string verbs;
        for (const auto& v : kVerbs)
            if (std::string_view(v.noun) == n.noun) {
                verbs += std::string(v.verb) + " ";
                std::string flags = "--workspace --json --help";
                for (const auto& o : v.options)
                    flags += std::string(" --") + o.name;
                cases += "    \"" + std::string(n.noun) + " " + v.verb + "\") opts=\"" + flags + "\" ;;\n";
            }
        cases += "    \"" + std::string(n.noun) + "\") opts=\"" + verbs + "--help\" ;;\n";
    }
    return "# bash completion for kiln (generated by `kiln completion bash`)\n"
           "_kiln() {\n"
           "  local cur=${COMP_WORDS[COMP_CWORD]} key=\"\" opts i w\n"
           "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "    w=${COMP_WORDS[i]}\n"
           "    [[ $w == -- ]] && return 0\n"
           "    [[ $w == -* ]] && continue\n"
           "    if [[ -z $key ]]; then key=$w; elif [[ $key != *\" \"* ]]; then key=\"$key $w\"; fi\n"
           "  done\n"
           "  case \"$key\" in\n"
           "    \"\") opts=\"" +
           nouns + "version completion --help --version\" ;;\n" + cases +
           "    *) opts=\"--workspace --json --help\" ;;\n"
           "  esac\n"
           "  if [[ $cur == -* || -z $key || $key != *\" \"* ]]; then\n"
           "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
           "  else\n"
           "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
           "  fi\n"
           "}\n"
           "complete -o filenames -F _kiln kiln\n";
}

} // namespace

std::int64_t parseRunId(const std::string& s, const char* what) {
    try {
        std::size_t used = 0;
        auto v = std::stoll(s, &used);
        if (used == s.size() && v > 0)
            return v;
    } catch (...) {
    }
    throw CliError(std::string("not a ") + what + " id: " + s);
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
            if (!info.note.empty())
                m_err << "kiln: " << info.note << "\n";
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
    if (verb == "gc") {
        Json body = Json::object();
        if (auto g = m_a.opt("grace-seconds")) {
            try {
                std::size_t used = 0;
                body["grace_seconds"] = std::stoi(*g, &used);
                if (used != g->size())
                    throw std::invalid_argument("trailing");
            } catch (const std::exception&) {
                throw CliError("--grace-seconds takes a whole number of seconds");
            }
        }
        auto r = client().post("/api/v1/workspace/gc", body);
        if (m_json)
            print(r);
        else
            m_out << "removed " << r["removed"] << " unreferenced files ("
                  << bytes(r["bytes_freed"].get<std::int64_t>()) << " freed); " << r["kept"] << " in use"
                  << (r["too_young"].get<int>() ? ", " + r["too_young"].dump() + " too recent to tell"
                                                : std::string())
                  << "\n";
        return 0;
    }
    if (verb == "info") {
        auto loc = location();
        Json info = {{"workspace", loc.remote() ? loc.url : loc.dir.string()},
                     {"found_by", loc.source},
                     {"remote", loc.remote()}};
        // A local workspace's kilnd when one runs (never started by asking); a remote one's, asked.
        std::optional<Workspace::ServerInfo> server;
        if (!loc.remote())
            server = Workspace::runningServer(loc.dir);
        else
            server = Workspace::ServerInfo{loc.url, 0, loc.token, 0, loc.caFile, {}};
        info["server"] = server ? Json(server->url) : Json(nullptr);
        std::string problem;
        if (server) {
            try {
                Api::Client c(server->url, server->token, std::chrono::seconds(10), server->caFile);
                const auto health = c.health();
                info["version"] = health.value("version", "");
                info["read_only"] = health.value("read_only", Json(nullptr));
                info["experiments"] = c.get("/api/v1/experiments").size();
            } catch (const std::exception& e) {
                problem = e.what();
                info["error"] = problem;
            }
        }
        if (m_json) {
            print(info);
        } else {
            m_out << "Workspace: " << info["workspace"].get<std::string>() << " (" << loc.source << ")\n";
            m_out << "Server:    "
                  << (!server            ? std::string("not running (kiln server start starts it)")
                      : !problem.empty() ? server->url + ": not answering: " + problem
                      : loc.remote()     ? server->url + " (kilnd " + info["version"].get<std::string>() + ")"
                                         : server->url + " (pid " + std::to_string(server->pid) + ", kilnd " +
                                           info["version"].get<std::string>() + ")")
                  << "\n";
            if (info.contains("experiments"))
                m_out << "Experiments: " << info["experiments"] << "\n";
            if (info.contains("read_only") && info["read_only"].is_string())
                m_out << "Read-only: " << info["read_only"].get<std::string>() << "\n";
        }
        return problem.empty() ? 0 : 1;
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
        if (!info.note.empty())
            m_err << "kiln: " << info.note << "\n";
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
    CLI::App app;
    std::vector<Parsed> verbs;
    buildApp(app, verbs);
    std::string out = app.help();
    out += "\nVerbs (each with its own --help):\n";
    for (const auto& v : kVerbs) {
        std::string line = std::string("  kiln ") + v.noun + " " + v.verb;
        for (const auto& w : v.words)
            line += std::string(" ") + w.name;
        for (const auto& o : v.options) {
            std::string flag = std::string("--") + o.name;
            if (o.kind != Kind::Flag)
                flag += " " + metavar(o.name) + (o.kind == Kind::Multi ? "..." : "");
            line += o.required ? " " + flag : " [" + flag + "]" + (o.kind == Kind::Repeat ? "..." : "");
        }
        if (v.scriptArgs)
            line += " -- ARGS...";
        out += line + "\n";
    }
    return out;
}

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    // Everything after the first `--` is the script's, untouched; CLI11 sees what comes before.
    const auto dashes = std::find(argv.begin(), argv.end(), "--");
    std::vector<std::string> before(argv.begin(), dashes);
    Args a;
    if (dashes != argv.end())
        a.rest.assign(dashes + 1, argv.end());

    CLI::App app;
    std::vector<Parsed> verbs;
    buildApp(app, verbs);
    const Parsed* chosen = nullptr;
    try {
        std::vector<const char*> cargv = {"kiln"};
        for (const auto& b : before)
            cargv.push_back(b.c_str());
        app.parse(static_cast<int>(cargv.size()), cargv.data());
        // Extras are collected (not refused by CLI11, which lists them backwards) and refused here, in order.
        if (auto extras = app.remaining(true); !extras.empty()) {
            std::string list;
            for (const auto& x : extras)
                list += " " + x;
            throw CLI::ExtrasError("unexpected argument" + std::string(extras.size() > 1 ? "s" : "") + ":" +
                                       list,
                                   CLI::ExitCodes::ExtrasError);
        }
        if (app.count("--version") || app.got_subcommand("version")) {
            out << "kiln " << KILN_VERSION << "\n";
            return 0;
        }
        if (auto* completion = app.get_subcommand("completion"); completion->parsed()) {
            if (completion->get_option("SHELL")->as<std::string>() != "bash")
                throw CLI::ValidationError("SHELL", "only bash completion is available");
            out << bashCompletion();
            return 0;
        }
        if (app.get_subcommands().empty()) {
            out << usage();
            return 2;
        }
        for (const auto& v : verbs)
            if (v.verb->parsed())
                chosen = &v;
        if (!chosen)
            throw CLI::CallForHelp();
        if (!chosen->spec->scriptArgs && !a.rest.empty())
            throw CLI::ExtrasError("unexpected arguments after --: only `kiln run submit` passes them on",
                                   CLI::ExitCodes::ExtrasError);
    } catch (const CLI::CallForHelp&) {
        // Help for the deepest command named.
        CLI::App* deepest = &app;
        while (!deepest->get_subcommands().empty())
            deepest = deepest->get_subcommands().front();
        out << (deepest == &app ? usage() : deepest->help());
        return 0;
    } catch (const CLI::ParseError& e) {
        std::string where = "kiln";
        for (CLI::App* c = &app; !c->get_subcommands().empty();) {
            c = c->get_subcommands().front();
            where += " " + c->get_name();
        }
        std::string message = e.what();
        CLI::App* deepest = &app;
        while (!deepest->get_subcommands().empty())
            deepest = deepest->get_subcommands().front();
        const auto extras = app.remaining(true);
        std::vector<std::string> choices; // what the first unexpected word could have been
        if (!extras.empty() && !extras.front().starts_with("-") &&
            (message.find("required") != std::string::npos || deepest == &app)) {
            // "a verb is required" (or, at the top, "unexpected arguments") because the word given is not
            // one: say which word, and the nearest that is.
            message =
                "unknown " + std::string(where == "kiln" ? "command" : "verb") + " '" + extras.front() + "'";
            for (const auto* sub : deepest->get_subcommands({}))
                choices.push_back(sub->get_name());
        } else if (!extras.empty() && extras.front().starts_with("--")) {
            message = "unknown option '" + extras.front() + "'";
            for (const auto* o : deepest->get_options())
                for (const auto& name : o->get_lnames())
                    choices.push_back("--" + name);
            for (const auto& name : app.get_option("--workspace")->get_lnames())
                choices.push_back("--" + name);
        }
        if (auto near = Util::nearestWord(extras.empty() ? std::string() : extras.front(), choices))
            message += "; did you mean '" + *near + "'?";
        err << "kiln: " << message << " (see " << where << " --help)\n";
        return 2;
    }

    a.words = {chosen->spec->noun, chosen->spec->verb};
    for (const auto& w : chosen->spec->words)
        for (const auto& value : chosen->verb->get_option(w.name)->results())
            a.words.push_back(value);
    if (auto* o = app.get_option("--workspace"); o->count())
        a.flags["workspace"] = o->results();
    if (app.count("--json"))
        a.flags["json"].push_back("");
    for (const auto& o : chosen->spec->options) {
        auto* opt = chosen->verb->get_option(std::string("--") + o.name);
        if (!opt->count())
            continue;
        a.flags[o.name] = o.kind == Kind::Flag ? std::vector<std::string>{""} : opt->results();
    }
    try {
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
        if (noun == "sweep")
            return cmd.sweeps();
        if (noun == "experiment")
            return cmd.experiments();
        throw CliError("unknown command: " + noun + " (see kiln --help)");
    } catch (const Api::ClientError& e) {
        err << "kiln: " << inTheirWords(e.what(), a) << "\n";
    } catch (const std::exception& e) {
        err << "kiln: " << e.what() << "\n";
    }
    return 2;
}

} // namespace Kiln::Cli
