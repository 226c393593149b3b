#pragma once
#include "sweeps/Policy.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace Kiln::Sweeps {

// What a sweep is, as POST /api/v1/sweeps takes it: a run template (the fields of POST /api/v1/runs:
// experiment, script, args, compute, environment, snapshot, source_path) plus
//   parameters             {name: "loguniform(-9.2, -2.3)", ...} (SearchSpace.h), taken in name order
//   sampling, seed         grid | random (default) | sobol | bayesian; seed default 0
//   primary_metric         {name, goal: maximize | minimize}
//   max_total_trials       default 20 (grid: at most the grid's size)
//   max_concurrent_trials  default 4
//   max_duration_minutes   default none: past it no trial starts and live ones are canceled
//   early_termination      a Policy (Policy.h), optional
struct SweepSpec {
    Json run = Json::object(); // the template, exactly as POST /runs takes it
    SearchSpace parameters;
    std::string sampling = "random";
    std::uint64_t seed = 0;
    std::string primaryMetric;
    Goal goal = Goal::Maximize;
    std::int64_t maxTotalTrials = 20;
    std::int64_t maxConcurrentTrials = 4;
    double maxDurationMinutes = 0; // 0: none
    Policy policy;

    // Validates a request body; throws SpaceError naming the field (and the column in an expression).
    static SweepSpec fromJson(const Json& body);
    Json toJson() const; // the body again, normalized
};

// A sweep file (YAML, see README) read into a POST /sweeps body, except the snapshot, which the caller makes
// from the returned source folder ("source", relative to the file). Errors name the file's line and column:
// throws SpaceError with "sweep.yml:12:18: ...".
struct SweepFile {
    Json body;
    std::filesystem::path source;
};
SweepFile readSweepFile(const std::filesystem::path& file);

} // namespace Kiln::Sweeps
