#pragma once
#include "environments/EnvironmentSpec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Environments {

struct EnvironmentVersion {
    std::int64_t id = 0;
    std::string name;
    int version = 0;
    Spec spec;
    std::string specHash;
    double created = 0;
};
Json toJson(const EnvironmentVersion& v);

// Named, versioned environment specs. Creating one with the spec of its latest version makes no new
// version.
class EnvironmentStore final {
public:
    explicit EnvironmentStore(Store::Database& db)
        : m_db(db) {}

    std::pair<EnvironmentVersion, bool> create(const std::string& name,
                                               const Spec& spec); // bool: a new version
    Json list();
    std::vector<EnvironmentVersion> versions(const std::string& name);
    std::optional<EnvironmentVersion> version(const std::string& name, int version); // 0: latest
    std::optional<EnvironmentVersion> byId(std::int64_t id);
    void setRunEnvironment(std::int64_t runId, std::int64_t versionId);
    std::optional<EnvironmentVersion> ofRun(std::int64_t runId);
    Json runsUsing(std::int64_t versionId);

private:
    Store::Database& m_db;
};

} // namespace Kiln::Environments
