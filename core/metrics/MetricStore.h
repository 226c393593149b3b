#pragma once
#include "Columns.h"
#include "util/Json.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
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

// Metric points of runs, stored per key in blocks of up to kBlockPoints points (columns as blobs, with a
// summary of each block's first, last, minimum and maximum point). A batch is committed before ingest()
// returns, so an acknowledged point is durable; batches that arrive together share one commit. Every point
// has an id, rising within its run in the order points were stored: the live feed's cursor.
class MetricStore final {
public:
    static constexpr std::size_t kBlockPoints = 512;
    // Moves points a workspace stored before blocks (schema 12) into blocks, once.
    explicit MetricStore(Store::Database& db);

    using BatchId = Metrics::BatchId;
    // Points whose step is kNextStep get the key's next step; without a timestamp (<= 0), now (both are
    // filled in `points`). A batch with an id that was stored before is not stored again (a client
    // resending after a lost reply): returns false for such a repeat, true when the points were stored.
    bool ingest(std::int64_t runId, Columns& points, const BatchId* batch = nullptr);
    // How many transactions ingest() has committed (or tried to): fewer than batches when they shared.
    std::int64_t commits() const { return m_commits; }
    // The highest sequence number stored from `client` for the run, if any.
    std::optional<std::int64_t> lastBatch(std::int64_t runId, const std::string& client);
    Json keys(std::int64_t runId);
    // Every point of `key` in order (without ids), from its `from`th on (a follower reads only what is new:
    // the blocks before it are skipped unread).
    Series history(std::int64_t runId, const std::string& key, std::size_t from = 0);
    // Every point of every key of a run, as one batch (keys by name), and in `cursor` the id of the last
    // point it holds: the live feed continues from there (metrics_after) without a gap or a repeat.
    Columns everything(std::int64_t runId, std::int64_t& cursor);
    // The points of `key` a chart `buckets` pixel columns wide shows for steps [from, to] (default: the
    // key's first and last step): exactly what reduceMinMax (Reduce.h) gives for the whole series, computed
    // from block summaries, reading the points of only the blocks that straddle a column's edge. `ids` are
    // then the points' indexes in the series. A key whose steps ever went down is given whole (its blocks
    // are not in step order). `total` is set to the key's number of points.
    Series lod(std::int64_t runId, const std::string& key, std::optional<double> from,
               std::optional<double> to, int buckets, std::int64_t* total = nullptr);
    // Points with id > after, per key, about `limit` in all (whole blocks are read; more than `limit` when a
    // block holds more). A cursor among a run's latest points (the live feed keeping up) is answered from
    // memory, without waiting for the database (whole batches; more than `limit` when a batch holds more).
    std::map<std::string, Series> after(std::int64_t runId, std::int64_t after, std::int64_t limit);

private:
    struct Pending { // a batch waiting for its group's commit
        std::int64_t runId = 0;
        Columns* points = nullptr;
        const BatchId* batch = nullptr;
        std::int64_t firstId = 0; // of its points, once stored
        bool stored = false;
        bool done = false;
        std::exception_ptr error;
    };
    void commitGroup(const std::vector<Pending*>& group);
    bool ingestLocked(Pending& p, double now);
    // Each run's latest stored batches, with the id of their first point: contiguous ids, newest last.
    struct Recent {
        std::deque<std::pair<std::int64_t, Columns>> batches;
        std::size_t points = 0;
        double used = 0; // when it last gained a batch
    };
    static constexpr std::size_t kRecentPoints = 20000, kRecentBatches = 2000;
    void remember(const std::vector<Pending*>& group);
    std::optional<std::map<std::string, Series>> recent(std::int64_t runId, std::int64_t after,
                                                        std::int64_t limit);
    std::mutex m_recentMutex;
    std::unordered_map<std::int64_t, Recent> m_recent;
    double m_recentSwept = 0;
    std::mutex m_groupMutex;
    std::condition_variable m_groupDone;
    std::vector<Pending*> m_waiting;
    bool m_committing = false;
    std::atomic<std::int64_t> m_commits = 0;

    struct KeyRow;
    std::optional<KeyRow> findKey(Store::Database& db, std::int64_t runId, const std::string& key);
    void adoptRows();
    Store::Database& m_db;
};

} // namespace Kiln::Metrics
