#pragma once
#include "util/Json.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Compute {

// A place runs execute. Type `slurm`: a Slurm cluster reached through slurmrestd (`slurm_url`,
// `slurm_user`, `partition`, `max_nodes` jobs at once); its JWT lives in <workspace>/secrets/, mode 0600,
// never in the config. Type `local`: a pool of `max_nodes` run slots on this machine (each run starts its
// own processes, so a slot has nothing to keep warm); optional per-run `cpus` (pinned with
// sched_setaffinity) and `memory_mb` (the resident memory of the run's process tree, watched by its
// supervisor).
struct Target {
    std::int64_t id = 0;
    std::string name;
    std::string type; // "local"
    Json config = Json::object();
    std::string state; // "Succeeded" once provisioned, "Failed" with `error`
    std::string error;
    double created = 0;

    int maxNodes() const { return config.value("max_nodes", 1); }
    int cpusPerRun() const { return config.value("cpus", 0); }
    std::int64_t memoryMbPerRun() const { return config.value("memory_mb", std::int64_t(0)); }
};
Json toJson(const Target& t);
bool isValidTargetName(const std::string& name);
// Validates a POST /api/v1/compute body into a target (not stored); throws UserError.
Target targetFromRequest(const Json& body);

std::filesystem::path slurmTokenPath(const std::filesystem::path& workspace, const std::string& target);

class ComputeStore final {
public:
    explicit ComputeStore(Store::Database& db)
        : m_db(db) {}

    Target create(const Target& target); // 409 if the name exists
    void update(const Target& target);
    std::vector<Target> list();
    std::optional<Target> get(const std::string& name);

private:
    Store::Database& m_db;
};

} // namespace Kiln::Compute
