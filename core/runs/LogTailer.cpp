#include "LogTailer.h"

#include "metrics/MetricStore.h"
#include "runs/RunStore.h"
#include "runs/SystemMetrics.h"
#include "util/Fs.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>

namespace fs = std::filesystem;

namespace Kiln::Runs {

namespace {
constexpr std::size_t kMaxLine = 16 * 1024;
constexpr std::size_t kMaxReadPerTick = 4 * 1024 * 1024;
constexpr const char* kSystemClient = "kiln-supervisor"; // the batch sender named for system metrics

// What a file holds from `offset` on (of its `size`), at most one tick's worth; empty if it cannot be read.
std::string readFrom(const fs::path& file, std::int64_t offset, std::int64_t size) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return {};
    in.seekg(offset);
    std::string data(static_cast<std::size_t>(std::min<std::int64_t>(size - offset, kMaxReadPerTick)), '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    return data;
}
} // namespace

namespace {
// Files under logs/ are log streams, except what the kiln module keeps there for the run page: images
// (logs/images/, and any picture) and the indexes of images and tables (run.log_image, log_row...).
bool isTextLog(const std::string& rel) {
    if (rel.starts_with("images/") || rel == "images.jsonl" || rel == "tables.jsonl")
        return false;
    const auto dot = rel.rfind('.');
    std::string extension = dot == std::string::npos ? std::string() : rel.substr(dot + 1);
    for (auto& c : extension)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* picture :
         {"png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "tif", "tiff", "npz", "npy"})
        if (extension == picture)
            return false;
    return true;
}
} // namespace

bool LogTailer::tailRun(std::int64_t runId, const fs::path& controlDir, const fs::path& workDir, bool final) {
    bool any = tailFile(runId, "output", controlDir / "output.log", final);
    any |= tailSystem(runId, controlDir, final);
    std::error_code ec;
    const auto logs = workDir / "logs";
    if (fs::is_directory(logs, ec)) {
        int count = 0;
        // Regular files only: a link (to /etc/passwd, or out of the run's folder) is never followed, and
        // links to folders are not entered.
        for (auto it = fs::recursive_directory_iterator(logs, ec);
             it != fs::recursive_directory_iterator() && count < 100; it.increment(ec)) {
            if (ec || !fs::is_regular_file(it->symlink_status(ec)))
                continue;
            auto rel = Util::safeRelativePath(it->path().lexically_relative(logs).generic_string());
            if (!rel || !isTextLog(*rel))
                continue;
            ++count;
            any |= tailFile(runId, "logs/" + *rel, it->path(), final);
        }
    }
    return any;
}

bool LogTailer::tailFile(std::int64_t runId, const std::string& stream, const fs::path& file, bool final) {
    std::error_code ec;
    const auto size = static_cast<std::int64_t>(fs::file_size(file, ec));
    if (ec)
        return false;
    const auto offset = m_runs.logOffset(runId, stream);
    if (size <= offset)
        return false;
    const auto data = readFrom(file, offset, size);
    std::vector<std::string> lines;
    std::size_t consumed = 0;
    std::size_t start = 0;
    while (start < data.size()) {
        auto nl = data.find('\n', start);
        if (nl == std::string::npos) {
            if (!final && data.size() - start < kMaxLine)
                break;
            nl = std::min(data.size(), start + kMaxLine);
            lines.push_back(data.substr(start, nl - start));
            start = consumed = nl;
            continue;
        }
        if (nl - start > kMaxLine)
            nl = start + kMaxLine;
        std::string line = data.substr(start, nl - start);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(std::move(line));
        start = consumed = (data[nl] == '\n') ? nl + 1 : nl;
    }
    if (consumed == 0)
        return false;
    m_runs.appendLogs(runId, stream, lines, offset + static_cast<std::int64_t>(consumed));
    // A file may have more than one tick's worth: keep reading when it is the final pass.
    if (final && offset + static_cast<std::int64_t>(consumed) < size)
        tailFile(runId, stream, file, final);
    return true;
}

bool LogTailer::tailSystem(std::int64_t runId, const fs::path& controlDir, bool final) {
    const auto file = controlDir / kSystemMetricsFile;
    std::error_code ec;
    const auto size = static_cast<std::int64_t>(fs::file_size(file, ec));
    if (ec)
        return false;
    const auto offset = m_metrics.lastBatch(runId, kSystemClient).value_or(0);
    if (size <= offset)
        return false;
    const auto data = readFrom(file, offset, size);
    const auto end = data.rfind('\n'); // whole lines only: the supervisor may be writing the next
    if (end == std::string::npos)
        return false;
    Metrics::Columns points;
    std::size_t start = 0;
    while (start <= end) {
        const auto nl = data.find('\n', start);
        const std::string_view line(data.data() + start, nl - start);
        start = nl + 1;
        // A line that does not parse (cut short by a full disk) is skipped; so is any key outside sys/.
        const auto j = Json::parse(line, nullptr, false);
        if (!j.is_object() || !j.contains("i") || !j["i"].is_number_integer() || !j.contains("t") ||
            !j["t"].is_number() || !j.contains("m") || !j["m"].is_object())
            continue;
        const auto step = j["i"].get<std::int64_t>();
        const auto time = j["t"].get<double>();
        for (const auto& [key, value] : j["m"].items())
            if (key.starts_with(kSystemPrefix) && key.size() <= 250 && value.is_number() &&
                std::isfinite(value.get<double>()) && step >= 0)
                points.add(key, step, time, value.get<double>());
    }
    const Metrics::MetricStore::BatchId batch{kSystemClient, offset + static_cast<std::int64_t>(end) + 1};
    m_metrics.ingest(runId, points, &batch);
    if (final && batch.seq < size)
        tailSystem(runId, controlDir, final);
    return points.size() > 0;
}

} // namespace Kiln::Runs
