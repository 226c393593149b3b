#pragma once
#include "runs/Run.h"
#include "runs/RunQuery.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
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

struct QueryResult {
    std::vector<RunRecord> runs;
    std::int64_t total = 0; // runs that match, over all pages
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
    Json params = Json::object();
    std::optional<std::int64_t> sweepId; // a sweep's trial: its sweep and the sampler's draw
    std::int64_t sweepDraw = 0;
    double systemInterval = 1; // seconds between system metric samples (sys/...); 0: none
};

// Experiments, runs, their logs and files in the workspace database.
class RunStore final {
public:
    explicit RunStore(Store::Database& db)
        : m_db(db) {}

    Json experiments(bool archivedToo = false);
    std::int64_t createRun(const NewRun& run);
    std::optional<RunRecord> run(std::int64_t id);
    // What a request needs of a run on every call (its token checked, its metrics taken): cheaper than run().
    struct Liveness {
        RunStatus status;
        std::string tokenHash;
    };
    std::optional<Liveness> liveness(std::int64_t id);
    std::vector<RunRecord> runs(const std::string& experiment, std::int64_t limit, std::int64_t offset);
    QueryResult query(const RunQuery& query); // throws QueryError
    // Each run's metrics, summarised: {run id: {key: {last, min, max, step, count}}}.
    Json metricSummaries(const std::vector<std::int64_t>& runIds);
    // The names the runs of an experiment (or all) use, for choosing columns: {params, metrics, tags}, each
    // sorted; read from the newest `sample` runs.
    Json columns(const std::string& experiment, std::int64_t sample = 5000);
    std::vector<RunRecord> trials(std::int64_t sweepId); // in draw order
    std::vector<RunRecord> runsInStates(const std::vector<RunStatus>& states);
    // {Queued: n, Preparing: n, Running: n, Finalizing: n}: how many runs are in each live state.
    Json liveCounts();

    // Moves run `id` to `to` when the state machine (RunState.h) allows it from the run's current status
    // and, if `expected` is given, only from that status: a compare-and-set inside one transaction.
    // `mutate` may set other fields of the record (and choose another status), which are written with it
    // once the move they make is found legal. Returns the updated record,
    // or nothing when the move was refused (an illegal move is also logged) or the run does not exist.
    std::optional<RunRecord> transition(std::int64_t id, RunStatus to,
                                        const std::function<void(RunRecord&)>& mutate = {},
                                        std::optional<RunStatus> expected = std::nullopt);
    // Records that `by` asked to cancel the run (kept across restarts, so no stage of a run can miss it). A
    // run still Queued here (not handed to an external scheduler) ends Canceled at once, in the same
    // transaction. Returns the record afterwards, or nothing for an unknown run.
    std::optional<RunRecord> requestCancel(std::int64_t id, const std::string& by);
    void mergeJson(std::int64_t id, const char* column, const Json& values);
    void removeKeys(std::int64_t id, const char* column, const std::vector<std::string>& keys);
    // Sets what a user manages of a run: name, starred, archived, note (whichever are given).
    void manage(std::int64_t id, const std::optional<std::string>& name, std::optional<bool> starred,
                std::optional<bool> archived, const std::optional<std::string>& note);
    // Deletes an ended run and everything recorded of it (metrics, logs, files, which datasets and
    // environment it used; its snapshot when no other run has it), in one transaction. Returns the blobs it
    // referred to, for the caller to free those nothing else uses. The caller checks that it may go.
    std::set<std::string> deleteRun(std::int64_t id);
    // Renames an experiment (false: the new name is taken); archives or brings one back. Nothing for an
    // unknown experiment (returns false).
    bool renameExperiment(const std::string& from, const std::string& to);
    bool archiveExperiment(const std::string& name, bool archived);

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
    std::optional<RunRecord> load(std::int64_t id); // caller holds the lock
    // Reads a JSON column of a run, lets `edit` change it, and writes it back, in one transaction.
    void editJson(std::int64_t id, const char* column, const std::function<void(Json&)>& edit);
    void save(RunRecord& run); // caller holds the lock, inside a transaction
    Store::Database& m_db;
};

} // namespace Kiln::Runs
