#pragma once
#include "Columns.h"
#include "util/Json.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Metrics {

// Columns of one metric's points, in the order they were logged.
struct Series {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> steps;
    std::vector<double> timestamps;
    std::vector<double> values;
};

Json toJson(const Series& s);

// Metric points of runs. A batch is committed in one transaction before ingest() returns, so an
// acknowledged point is durable.
class MetricStore final {
public:
    explicit MetricStore(Store::Database& db)
        : m_db(db) {}

    using BatchId = Metrics::BatchId;
    // Points whose step is kNextStep get the key's next step; without a timestamp (<= 0), now (both are
    // filled in `points`). A batch with an id that was stored before is not stored again (a client
    // resending after a lost reply): returns false for such a repeat, true when the points were stored.
    bool ingest(std::int64_t runId, Columns& points, const BatchId* batch = nullptr);
    // The highest sequence number stored from `client` for the run, if any.
    std::optional<std::int64_t> lastBatch(std::int64_t runId, const std::string& client);
    Json keys(std::int64_t runId);
    Series history(std::int64_t runId, const std::string& key);
    // Points with id > after, per key, at most `limit` in all.
    std::map<std::string, Series> after(std::int64_t runId, std::int64_t after, std::int64_t limit);

private:
    std::int64_t keyId(std::int64_t runId, const std::string& key, std::int64_t& nextStep);
    Store::Database& m_db;
};

} // namespace Kiln::Metrics
