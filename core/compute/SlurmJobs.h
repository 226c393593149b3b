#pragma once
#include "util/Json.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Compute {

class SlurmClient;
struct Target;

// What the executor needs to run a Kiln run as a Slurm batch job.
std::unique_ptr<SlurmClient> slurmClientFor(const Target& target, const std::filesystem::path& workspace);
// `cd workDir && exec argv...`, every word shell-quoted. Given kilnd and the run's control folder, the
// script runs under `kilnd __supervise-job` (which samples its system metrics on the node) wherever that
// kilnd is on the node (a shared file system), and on its own, saying so, where it is not.
std::string batchScript(const std::filesystem::path& workDir, const std::vector<std::string>& argv,
                        const std::filesystem::path& kilnd = {},
                        const std::filesystem::path& controlDir = {});
// For a job in a final state, the run's exit record ({status, exit_code, signal, ended, slurm_state,
// error?}); nothing while it is pending or running. Slurm's exit_code is the raw wait status.
std::optional<Json> slurmExitRecord(const Json& job);

} // namespace Kiln::Compute
