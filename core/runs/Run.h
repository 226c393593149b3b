#pragma once
#include "util/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Runs {

enum class RunStatus { Queued, Preparing, Running, Finalizing, Completed, Failed, Canceled };

std::string_view toString(RunStatus s);
std::optional<RunStatus> statusFromString(std::string_view s);
inline bool isTerminal(RunStatus s) {
    return s == RunStatus::Completed || s == RunStatus::Failed || s == RunStatus::Canceled;
}

struct RunRecord {
    std::int64_t id = 0;
    std::int64_t experimentId = 0;
    std::string experiment;
    std::string name;
    RunStatus status = RunStatus::Queued;
    std::int64_t statusSeq = 0;
    std::string script;
    std::vector<std::string> args;
    std::string sourcePath;
    std::string snapshot;
    std::string compute;
    std::string node;       // the compute node (slot) it ran on
    std::string externalId; // e.g. the Slurm job id
    double created = 0;
    std::optional<double> dispatched; // left the queue for a node
    std::optional<double> started;    // the script began
    std::optional<double> ended;
    std::optional<std::int64_t> exitCode;
    std::optional<std::int64_t> signal;
    std::string error;
    std::string tokenHash;
    std::optional<std::int64_t> supervisorPid;
    std::optional<std::int64_t> pgid;
    std::optional<double> cancelRequested;
    std::string cancelBy; // who asked: "the user", a sweep's policy, Slurm...
    Json params = Json::object();
    Json tags = Json::object();
    std::optional<std::int64_t> sweepId; // set for a sweep's trial
    std::int64_t sweepDraw = 0;
    bool starred = false;
    bool archived = false;     // hidden from listings unless asked for
    std::string note;          // Markdown
    double systemInterval = 1; // seconds between the supervisor's system metric samples; 0: none
};

// The public view of a run (no token hash, no pids).
Json toJson(const RunRecord& run);

} // namespace Kiln::Runs
