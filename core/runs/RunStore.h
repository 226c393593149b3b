#pragma once
#include "runs/Run.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Runs {

struct LogLine {
    std::int64_t id = 0;
    std::string stream;
    std::string line;
    double ts = 0;
};

struct RunFile {
    std::string path;
    std::string blob;
    std::int64_t size = 0;
};

struct NewRun {
    std::string experiment;
    std::string name;
    std::string script;
    std::vector<std::string> args;
    std::string sourcePath;
    std::string snapshot;
    std::string compute = "local";
    std::string tokenHash;
};

// Experiments, runs, their logs and files in the workspace database.
class RunStore final {
public:
    explicit RunStore(Store::Database& db)
        : m_db(db) {}

    Json experiments();
    std::int64_t createRun(const NewRun& run);
    std::optional<RunRecord> run(std::int64_t id);
    std::vector<RunRecord> runs(const std::string& experiment, std::int64_t limit, std::int64_t offset);
    std::vector<RunRecord> runsInStates(const std::vector<RunStatus>& states);

    // Moves a run to `status`, bumping its status sequence; `mutate` may set other fields of the record,
    // which are written with it. Returns the updated record.
    template <typename F> RunRecord transition(std::int64_t id, RunStatus status, F&& mutate) {
        auto r = run(id).value();
        r.status = status;
        mutate(r);
        save(r);
        return r;
    }
    RunRecord transition(std::int64_t id, RunStatus status) {
        return transition(id, status, [](RunRecord&) {});
    }
    void save(RunRecord& run);
    void mergeJson(std::int64_t id, const char* column, const Json& values);

    void putSnapshot(const std::string& hash, const std::string& manifest);
    std::optional<std::string> snapshot(const std::string& hash);

    // Appends lines of a log stream and records how far the stream was read, in one transaction.
    void appendLogs(std::int64_t runId, const std::string& stream, const std::vector<std::string>& lines,
                    std::int64_t newOffset);
    std::int64_t logOffset(std::int64_t runId, const std::string& stream);
    void resetLogOffsets(std::int64_t runId);
    std::vector<LogLine> logsAfter(std::int64_t runId, std::int64_t afterId, std::int64_t limit);
    std::vector<std::string> lastLines(std::int64_t runId, int count);

    void addFiles(std::int64_t runId, const std::vector<RunFile>& files);
    std::vector<RunFile> files(std::int64_t runId);

private:
    Store::Database& m_db;
};

} // namespace Kiln::Runs
