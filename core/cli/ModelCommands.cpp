// kiln model ..., and the verified download every `download` verb shares.
#include "cli/Command.h"

#include "api/Client.h"
#include "api/Http.h"
#include "metrics/SystemSummary.h"
#include "transfer/Download.h"
#include "util/Fs.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Cli {

namespace {

Json parseTags(const std::vector<std::string>& specs) {
    Json tags = Json::object();
    for (const auto& t : specs) {
        auto eq = t.find('=');
        if (eq == std::string::npos || eq == 0)
            throw CliError("--tag takes KEY=VALUE, not " + t);
        tags[t.substr(0, eq)] = t.substr(eq + 1);
    }
    return tags;
}

// Ctrl-C (or SIGTERM) during a download cancels it: the download removes what it staged and kiln says so.
// A second Ctrl-C ends kiln at once (the next download into that folder removes what that one left).
std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int sig) {
    g_interrupted = true;
    std::signal(sig, SIG_DFL);
    constexpr char note[] = "\nkiln: canceling the download (Ctrl-C again to stop at once)\n";
    [[maybe_unused]] auto n = ::write(2, note, sizeof note - 1);
}

class InterruptCancels {
public:
    InterruptCancels() {
        g_interrupted = false;
        for (int i = 0; i < 2; ++i)
            if ((m_old[i] = std::signal(kSignals[i], onInterrupt)) == SIG_IGN) // (a background job's)
                std::signal(kSignals[i], SIG_IGN);
    }
    ~InterruptCancels() {
        for (int i = 0; i < 2; ++i)
            std::signal(kSignals[i], m_old[i]);
    }
    InterruptCancels(const InterruptCancels&) = delete;
    InterruptCancels& operator=(const InterruptCancels&) = delete;

private:
    static constexpr int kSignals[2] = {SIGINT, SIGTERM};
    void (*m_old[2])(int) = {};
};

} // namespace

Json Command::downloadFiles(const std::vector<Transfer::RemoteFile>& files, const fs::path& dest,
                            const std::string& archiveName) {
    auto format = Transfer::formatFromString(m_a.opt("format").value_or("folder"));
    if (!format)
        throw CliError("--format is folder, zip or tar.gz");
    Transfer::Options options;
    options.format = *format;
    options.archiveRoot = archiveName;
    const bool live = !m_json && ::isatty(2);
    options.onProgress = [this, live](const Transfer::Progress& p) {
        if (live && !g_interrupted) {
            const auto pct = p.bytesTotal ? 100 * p.bytesDone / p.bytesTotal : 100;
            m_err << "\r" << std::setw(3) << pct << "%  " << bytes(p.bytesDone) << " of "
                  << bytes(p.bytesTotal) << "  " << bytes(static_cast<std::int64_t>(p.bytesPerSecond))
                  << "/s  " << p.filesDone << "/" << p.fileCount << " files\x1b[K" << std::flush;
        }
        return !g_interrupted;
    };
    const auto target =
        *format == Transfer::Format::Folder ? dest : dest / (archiveName + extension(*format));
    Transfer::Result result;
    {
        InterruptCancels interrupt;
        try {
            result = Transfer::download(client(), files, target, options);
        } catch (const Api::ClientError&) {
            if (live)
                m_err << "\r\x1b[K";
            if (g_interrupted)
                throw CliError("download interrupted: nothing was written");
            throw;
        }
    }
    if (live)
        m_err << "\r\x1b[K";
    Json out = {{"written", result.written.string()},
                {"files", result.files},
                {"bytes", result.bytes},
                {"seconds", result.seconds},
                {"resumes", result.resumes}};
    if (m_json) {
        print(out);
    } else {
        if (*format == Transfer::Format::Folder)
            for (const auto& f : files)
                m_out << (dest / f.path).string() << "\n";
        else
            m_out << result.written.string() << "\n";
        m_err << result.files << " files, " << bytes(result.bytes) << ", SHA-256 verified\n";
    }
    return out;
}

int Command::models() {
    const auto verb = m_a.word(1, "model verb (register|list|show|update|download)");
    auto& c = client();
    if (verb == "register") {
        Json body = {
            {"run", parseRunId(m_a.need("run"))}, {"name", m_a.need("name")}, {"path", m_a.need("path")}};
        if (auto d = m_a.opt("description"))
            body["description"] = *d;
        if (m_a.has("tag"))
            body["tags"] = parseTags(m_a.flags.at("tag"));
        if (m_a.has("force"))
            body["force"] = true;
        auto v = c.post("/api/v1/models", body);
        m_json ? print(v)
               : void(m_out << "Registered " << v["name"].get<std::string>() << ":" << v["version"].get<int>()
                            << " (" << v["file_count"].get<std::int64_t>() << " files, "
                            << bytes(v["total_size"].get<std::int64_t>()) << ") from run "
                            << v["run"].get<std::int64_t>() << "\n");
        return 0;
    }
    if (verb == "list") {
        auto list = c.get("/api/v1/models");
        if (m_json) {
            print(list);
            return 0;
        }
        m_out << std::left << std::setw(32) << "NAME" << std::setw(9) << "LATEST" << std::setw(10)
              << "VERSIONS"
              << "FRAMEWORK\n";
        for (const auto& m : list)
            m_out << std::setw(32) << m["name"].get<std::string>() << std::setw(9)
                  << m["latest_version"].get<std::int64_t>() << std::setw(10)
                  << m["versions"].get<std::int64_t>() << m["framework"].get<std::string>() << "\n";
        return 0;
    }
    const auto spec = m_a.word(2, "model NAME or NAME:VERSION");
    auto v = c.get(versionPath(spec, "models"));
    const auto name = v["name"].get<std::string>();
    const auto ver = v["version"].get<int>();
    const auto base = "/api/v1/models/" + Api::percentEncode(name) + "/versions/" + std::to_string(ver);
    if (verb == "show") {
        if (m_json) {
            print(v);
            return 0;
        }
        const auto& l = v["lineage"];
        m_out << name << ":" << ver << (v["archived"].get<bool>() ? "  (archived)" : "") << "\n";
        if (!v["description"].get<std::string>().empty())
            m_out << "  " << v["description"].get<std::string>() << "\n";
        m_out << "  Framework:   "
              << (v["framework"].get<std::string>().empty() ? "-" : v["framework"].get<std::string>())
              << "\n  Size:        " << bytes(v["total_size"].get<std::int64_t>()) << " in "
              << v["file_count"].get<std::int64_t>() << " files\n";
        for (const auto& [k, t] : v["tags"].items())
            m_out << "  Tag:         " << k << "=" << (t.is_string() ? t.get<std::string>() : t.dump())
                  << "\n";
        if (l.contains("run"))
            m_out << "  Run:         " << l["run"]["id"].get<std::int64_t>() << " ("
                  << l["run"]["experiment"].get<std::string>() << ", "
                  << l["run"]["status"].get<std::string>() << ") " << v["source_path"].get<std::string>()
                  << "\n";
        const auto datasets = l.value("datasets", Json::array());
        const auto metrics = l.value("metrics", Json::object());
        for (const auto& d : datasets)
            m_out << "  Dataset:     " << d["name"].get<std::string>() << ":" << d["version"].get<int>()
                  << "\n";
        if (l.contains("environment") && !l["environment"].is_null())
            m_out << "  Environment: " << l["environment"]["name"].get<std::string>() << ":"
                  << l["environment"]["version"].get<int>() << "\n";
        if (l.contains("snapshot"))
            m_out << "  Snapshot:    " << l["snapshot"].get<std::string>().substr(0, 16) << "\n";
        // The script's own final metrics; the system ones in one line.
        for (const auto& [k, value] : metrics.items())
            if (!Metrics::isSystemKey(k))
                m_out << "  Metric:      " << k << " = " << number(value) << "\n";
        if (const auto summary = Metrics::systemSummary(metrics); !summary.empty())
            m_out << "  System:      " << summary << "\n";
        for (const auto& f : v["files"])
            m_out << "  " << std::left << std::setw(12) << f["size"].get<std::int64_t>()
                  << f["sha256"].get<std::string>().substr(0, 16) << "  " << f["path"].get<std::string>()
                  << "\n";
        return 0;
    }
    if (verb == "update") {
        Json body = Json::object();
        if (auto d = m_a.opt("description"))
            body["description"] = *d;
        if (m_a.has("tag") || m_a.has("untag")) {
            Json tags = v["tags"];
            if (m_a.has("tag"))
                tags.update(parseTags(m_a.flags.at("tag")));
            if (m_a.has("untag"))
                for (const auto& k : m_a.flags.at("untag"))
                    tags.erase(k);
            body["tags"] = tags;
        }
        if (m_a.has("archive") || m_a.has("unarchive"))
            body["archived"] = m_a.has("archive");
        if (body.empty())
            throw CliError("nothing to change: give --description, --tag, --untag, --archive or --unarchive");
        auto updated = c.raw("PATCH", base, body.dump());
        if (updated.first >= 400)
            throw CliError(
                Json::parse(updated.second).value("error", "HTTP " + std::to_string(updated.first)));
        m_json ? print(Json::parse(updated.second)) : void(m_out << "Updated " << name << ":" << ver << "\n");
        return 0;
    }
    if (verb == "download") {
        downloadFiles(Transfer::remoteFiles(v["files"], base + "/files"), m_a.need("dest"),
                      name + "-" + std::to_string(ver));
        return 0;
    }
    throw CliError("unknown model verb: " + verb);
}

} // namespace Kiln::Cli
