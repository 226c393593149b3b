#include "cli/Command.h"

#include "api/Client.h"
#include "api/Http.h"
#include "transfer/Download.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Cli {

std::string bytes(std::int64_t n) {
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
std::string versionPath(const std::string& spec, const char* collection) {
    auto colon = spec.find(':');
    const auto name = spec.substr(0, colon);
    const auto version = colon == std::string::npos ? std::string("latest") : spec.substr(colon + 1);
    return "/api/v1/" + std::string(collection) + "/" + Api::percentEncode(name) + "/versions/" +
           Api::percentEncode(version);
}

int Command::datasets() {
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
            m_err << "\r" << p["files_done"].get<std::int64_t>() << "/" << p["file_count"].get<std::int64_t>()
                  << " files, " << bytes(p["bytes_done"].get<std::int64_t>()) << " at "
                  << bytes(static_cast<std::int64_t>(p["bytes_per_second"].get<double>())) << "/s   "
                  << std::flush;
        });
        if (tty)
            m_err << "\n";
        for (const auto& w : result.value("warnings", Json::array()))
            m_err << "kiln: warning: " << w.get<std::string>() << "\n";
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
        m_out << std::left << std::setw(28) << "NAME" << std::setw(9) << "VERSION" << std::setw(8) << "FILES"
              << std::setw(11) << "SIZE" << std::setw(20) << "CREATED"
              << "DESCRIPTION\n";
        for (const auto& d : list)
            m_out << std::setw(28) << d["name"].get<std::string>() << std::setw(9) << d["version"].get<int>()
                  << std::setw(8) << d["file_count"].get<std::int64_t>() << std::setw(11)
                  << bytes(d["total_size"].get<std::int64_t>()) << std::setw(20)
                  << Util::formatTimestamp(d["created"].get<double>()) << d["description"].get<std::string>()
                  << "\n";
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
        const auto name = version["name"].get<std::string>();
        const auto number = std::to_string(version["version"].get<int>());
        const auto base = versionPath(name + ":" + number) + "/files";
        downloadFiles(Transfer::remoteFiles(version["files"], base), m_a.need("dest"), name + "-" + number);
        return 0;
    }
    throw CliError("unknown dataset verb: " + verb);
}

int Command::environments() {
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
            m_out << (r["created"].get<bool>() ? "created " : "unchanged: ") << e["name"].get<std::string>()
                  << ":" << e["version"].get<int>()
                  << (r["created"].get<bool>() ? "" : " has this spec already") << "\n";
        return 0;
    }
    if (verb == "list") {
        auto list = c.get("/api/v1/environments");
        if (m_json) {
            print(list);
            return 0;
        }
        m_out << std::left << std::setw(28) << "NAME" << std::setw(9) << "VERSION" << std::setw(8) << "BUILT"
              << std::setw(12) << "PYTHON"
              << "PIP PACKAGES\n";
        for (const auto& e : list) {
            std::string pip;
            for (const auto& p : e["spec"]["pip"])
                pip += (pip.empty() ? "" : " ") + p.get<std::string>();
            const auto python = e["spec"]["python"].get<std::string>();
            m_out << std::setw(28) << e["name"].get<std::string>() << std::setw(9) << e["version"].get<int>()
                  << std::setw(8) << (e["built"].get<bool>() ? "yes" : "no") << std::setw(12)
                  << (python.empty() ? "system" : python) << pip << "\n";
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
              << (s["python"].get<std::string>().empty() ? "system python3" : s["python"].get<std::string>())
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

int Command::compute() {
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
        for (auto [flag, key] :
             {std::pair{"max-nodes", "max_nodes"}, {"cpus", "cpus"}, {"memory-mb", "memory_mb"}})
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
        m_out << std::left << std::setw(20) << "NAME" << std::setw(8) << "TYPE" << std::setw(12) << "STATE"
              << std::setw(8) << "NODES" << std::setw(8) << "IN USE"
              << "QUEUED\n";
        for (const auto& t : list)
            m_out << std::setw(20) << t["name"].get<std::string>() << std::setw(8)
                  << t["type"].get<std::string>() << std::setw(12) << t["state"].get<std::string>()
                  << std::setw(8) << t["config"]["max_nodes"].get<int>() << std::setw(8)
                  << t["nodes_in_use"].get<int>() << t["queued"].get<int>() << "\n";
        return 0;
    }
    if (verb == "show") {
        const auto path = "/api/v1/compute/" + Api::percentEncode(m_a.word(2, "compute target name"));
        auto t = c.get(path);
        // A Slurm cluster's nodes are read by kilnd in the background: the first ask starts that, so wait
        // (here, not in kilnd) for the first read, up to the time slurmrestd has to answer.
        for (int i = 0; i < 160 && t.contains("nodes_checked") && t["nodes_checked"].is_null(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            t = c.get(path);
        }
        if (m_json) {
            print(t);
            return 0;
        }
        const auto& cfg = t["config"];
        m_out << "Compute " << t["name"].get<std::string>() << " (" << t["type"].get<std::string>() << ", "
              << t["state"].get<std::string>() << ")\n  Nodes: " << cfg["max_nodes"].get<int>();
        if (cfg["cpus"].get<int>() > 0)
            m_out << ", " << cfg["cpus"].get<int>() << " CPUs per run";
        if (cfg["memory_mb"].get<std::int64_t>() > 0)
            m_out << ", " << cfg["memory_mb"].get<std::int64_t>() << " MB per run";
        m_out << "\n";
        if (t.contains("nodes_error") && t["nodes_error"].is_string())
            m_out << "  Cannot read the cluster's nodes now: " << t["nodes_error"].get<std::string>() << "\n";
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

} // namespace Kiln::Cli
