#include "SlurmJobs.h"

#include "compute/ComputeStore.h"
#include "compute/SlurmClient.h"
#include "util/Fs.h"

#include <set>

namespace Kiln::Compute {

std::unique_ptr<SlurmClient> slurmClientFor(const Target& target, const std::filesystem::path& workspace) {
    const auto token = Util::tryReadFile(slurmTokenPath(workspace, target.name)).value_or("");
    return std::make_unique<SlurmClient>(target.config.value("slurm_url", ""),
                                         target.config.value("slurm_user", "root"), token);
}

static std::string shellQuote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string batchScript(const std::filesystem::path& workDir, const std::vector<std::string>& argv,
                        const std::filesystem::path& kilnd, const std::filesystem::path& controlDir) {
    std::string command;
    for (const auto& arg : argv)
        command += " " + shellQuote(arg);
    std::string script = "#!/bin/sh\ncd " + shellQuote(workDir.string()) + " || exit 127\n";
    if (!kilnd.empty()) {
        const auto k = shellQuote(kilnd.string());
        script += "if [ -x " + k + " ]; then exec " + k + " __supervise-job " +
                  shellQuote(controlDir.string()) + " --" + command + "; fi\n" +
                  "echo \"kiln: no system metrics: \"" + k + "\" is not on node $(hostname)\" >&2\n";
    }
    return script + "exec" + command + "\n";
}

std::optional<Json> slurmExitRecord(const Json& job) {
    static const std::set<std::string> finals = {"COMPLETED", "FAILED",    "CANCELLED",
                                                 "TIMEOUT",   "NODE_FAIL", "OUT_OF_MEMORY",
                                                 "PREEMPTED", "BOOT_FAIL", "DEADLINE"};
    const auto state = job.value("job_state", std::string());
    if (!finals.count(state))
        return std::nullopt;
    const int raw = job.value("exit_code", 0);
    Json exit = {{"status", raw}, {"ended", Util::nowSeconds()}, {"slurm_state", state}};
    exit["exit_code"] = (raw & 0x7f) == 0 ? Json(raw >> 8) : Json(nullptr);
    exit["signal"] = (raw & 0x7f) != 0 ? Json(raw & 0x7f) : Json(nullptr);
    if (state != "COMPLETED" && state != "FAILED" && state != "CANCELLED")
        exit["error"] = "Slurm ended the job: " + state;
    return exit;
}

} // namespace Kiln::Compute
