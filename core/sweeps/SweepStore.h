#pragma once
#include "util/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Sweeps {

struct SweepRecord {
    std::int64_t id = 0;
    std::string experiment;
    Json spec;          // SweepSpec::toJson()
    std::string status; // Running, Completed, Failed, Canceled
    std::string error;
    std::string cancelBy; // who canceled it
    double created = 0;
    std::optional<double> ended;
};

// Sweeps in the workspace database; their trials are runs (RunStore::trials).
class SweepStore final {
public:
    explicit SweepStore(Store::Database& db)
        : m_db(db) {}
    std::int64_t create(const std::string& experiment, const Json& spec);
    std::optional<SweepRecord> get(std::int64_t id);
    std::vector<SweepRecord> list(std::int64_t limit, std::int64_t offset); // newest first
    // Ends a Running sweep (compare-and-set); false when it had ended already.
    bool finish(std::int64_t id, const std::string& status, const std::string& error,
                const std::string& cancelBy);
    // Sweeps with something left to do: Running ones, and ended ones whose trials still live.
    std::vector<std::int64_t> unsettled();

private:
    Store::Database& m_db;
};

} // namespace Kiln::Sweeps
