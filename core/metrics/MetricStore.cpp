#include "MetricStore.h"

#include "Reduce.h"
#include "store/Database.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace Kiln::Metrics {

namespace {
// A batch's points, digested (64-bit, word at a time: cheap beside storing them), to tell a batch sent again
// from other points sent under its id.
std::int64_t digestOf(const Columns& c) {
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ c.size();
    auto mix = [&h](std::uint64_t w) { h = (std::rotl(h ^ w, 29) * 0xbf58476d1ce4e5b9ull) ^ (h >> 31); };
    auto words = [&mix](const void* data, std::size_t bytes) {
        const auto* p = static_cast<const unsigned char*>(data);
        std::uint64_t w = 0;
        for (; bytes >= 8; bytes -= 8, p += 8) {
            std::memcpy(&w, p, 8);
            mix(w);
        }
        w = bytes;
        if (bytes) // (the length first, then the tail over it: distinct either way; no memcpy from null)
            std::memcpy(&w, p, bytes);
        mix(w ^ (std::uint64_t(bytes) << 56));
    };
    for (const auto& k : c.keys)
        words(k.data(), k.size());
    words(c.key.data(), c.key.size() * sizeof(std::uint32_t));
    words(c.steps.data(), c.steps.size() * sizeof(std::int64_t));
    words(c.timestamps.data(), c.timestamps.size() * sizeof(double));
    words(c.values.data(), c.values.size() * sizeof(double));
    const auto out = static_cast<std::int64_t>(h & 0x7fffffffffffffffull);
    return out == 0 ? 1 : out; // (0 stands for "no digest kept")
}
} // namespace

Json toJson(const Series& s) {
    return {{"steps", s.steps}, {"timestamps", s.timestamps}, {"values", s.values}};
}

namespace {

template <typename T> void appendBlob(std::vector<T>& out, std::string_view blob) {
    const auto n = blob.size() / sizeof(T);
    const auto at = out.size();
    out.resize(at + n);
    std::memcpy(out.data() + at, blob.data(), n * sizeof(T));
}

template <typename T> std::string_view blobOf(const std::vector<T>& v, std::size_t from, std::size_t n) {
    return {reinterpret_cast<const char*>(v.data() + from), n * sizeof(T)};
}

void appendSeries(Series& s, const Store::Statement& st, int firstColumn) {
    appendBlob(s.ids, st.blob(firstColumn));
    appendBlob(s.steps, st.blob(firstColumn + 1));
    appendBlob(s.timestamps, st.blob(firstColumn + 2));
    appendBlob(s.values, st.blob(firstColumn + 3));
}

// Writes points [from, from + n) of `s` as block `rowId` (0: a new block) with its summary.
void writeBlock(Store::Database& db, std::int64_t rowId, std::int64_t runId, std::int64_t keyId,
                const Series& s, std::size_t from, std::size_t n) {
    std::size_t minAt = from, maxAt = from;
    for (std::size_t i = from + 1; i < from + n; ++i) {
        if (s.values[i] < s.values[minAt])
            minAt = i;
        if (s.values[i] > s.values[maxAt])
            maxAt = i;
    }
    const std::size_t last = from + n - 1;
    auto st =
        db.prepare(rowId ? "UPDATE metric_blocks SET run_id = ?1, key_id = ?2, n = ?3, first_id = ?4, "
                           "last_id = ?5, first_step = ?6, first_ts = ?7, first_value = ?8, last_step = ?9, "
                           "last_ts = ?10, last_value = ?11, min_at = ?12, min_step = ?13, min_ts = ?14, "
                           "min_value = ?15, max_at = ?16, max_step = ?17, max_ts = ?18, max_value = ?19, "
                           "ids = ?20, steps = ?21, ts = ?22, vals = ?23 WHERE id = ?24"
                         : "INSERT INTO metric_blocks(run_id, key_id, n, first_id, last_id, first_step, "
                           "first_ts, first_value, last_step, last_ts, last_value, min_at, min_step, min_ts, "
                           "min_value, max_at, max_step, max_ts, max_value, ids, steps, ts, vals) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                           "?17, ?18, ?19, ?20, ?21, ?22, ?23)");
    st.bind(1, runId).bind(2, keyId).bind(3, static_cast<std::int64_t>(n));
    st.bind(4, s.ids[from]).bind(5, s.ids[last]);
    st.bind(6, s.steps[from]).bind(7, s.timestamps[from]).bind(8, s.values[from]);
    st.bind(9, s.steps[last]).bind(10, s.timestamps[last]).bind(11, s.values[last]);
    st.bind(12, static_cast<std::int64_t>(minAt - from)).bind(13, s.steps[minAt]);
    st.bind(14, s.timestamps[minAt]).bind(15, s.values[minAt]);
    st.bind(16, static_cast<std::int64_t>(maxAt - from)).bind(17, s.steps[maxAt]);
    st.bind(18, s.timestamps[maxAt]).bind(19, s.values[maxAt]);
    const auto bindColumn = [&](int index, std::string_view bytes) {
        st.bindBlob(index, bytes.data(), bytes.size());
    };
    bindColumn(20, blobOf(s.ids, from, n));
    bindColumn(21, blobOf(s.steps, from, n));
    bindColumn(22, blobOf(s.timestamps, from, n));
    bindColumn(23, blobOf(s.values, from, n));
    if (rowId)
        st.bind(24, rowId);
    st.exec();
}

// Appends a key's new points (their ids, steps... filled in) to its blocks. A block is written whole, so a
// small append must not rewrite a large block: the blocks not yet full (only ever the key's last ones, the
// tail) take a small batch into the last of them while it holds fewer than kTail points (or no more than the
// batch), else into a new one; once the tail and the batch fill a block, or the tail has kMaxTail blocks,
// they are merged into full blocks. A point is written about twice, and a single point rewrites at most
// kTail.
constexpr std::size_t kTail = 32, kMaxTail = 16;

void appendToBlocks(Store::Database& db, std::int64_t runId, std::int64_t keyId, const Series& points) {
    constexpr auto kFull = MetricStore::kBlockPoints;
    std::vector<std::pair<std::int64_t, std::size_t>> tail; // (row, points), oldest first
    std::size_t tailPoints = 0;
    {
        auto st = db.prepare("SELECT id, n FROM metric_blocks WHERE key_id = ? ORDER BY id DESC LIMIT ?");
        st.bind(1, keyId).bind(2, static_cast<std::int64_t>(kMaxTail + 1));
        while (st.step() && static_cast<std::size_t>(st.int64(1)) < kFull) {
            tail.insert(tail.begin(), {st.int64(0), static_cast<std::size_t>(st.int64(1))});
            tailPoints += tail.front().second;
        }
    }
    const auto readBlock = [&](std::int64_t row, Series& into) {
        auto st = db.prepare("SELECT ids, steps, ts, vals FROM metric_blocks WHERE id = ?");
        st.bind(1, row);
        if (st.step())
            appendSeries(into, st, 0);
    };
    const auto appendPoints = [&](Series& into) {
        into.ids.insert(into.ids.end(), points.ids.begin(), points.ids.end());
        into.steps.insert(into.steps.end(), points.steps.begin(), points.steps.end());
        into.timestamps.insert(into.timestamps.end(), points.timestamps.begin(), points.timestamps.end());
        into.values.insert(into.values.end(), points.values.begin(), points.values.end());
    };
    const std::size_t k = points.ids.size();
    if (!tail.empty() && (tailPoints + k >= kFull || tail.size() >= kMaxTail)) {
        // Merge: the tail and the batch become full blocks (and what is left over), in the tail's rows first.
        Series all;
        for (const auto& [row, n] : tail)
            readBlock(row, all);
        appendPoints(all);
        std::size_t used = 0;
        for (std::size_t from = 0; from < all.ids.size(); from += kFull, ++used)
            writeBlock(db, used < tail.size() ? tail[used].first : 0, runId, keyId, all, from,
                       std::min(kFull, all.ids.size() - from));
        for (; used < tail.size(); ++used)
            db.prepare("DELETE FROM metric_blocks WHERE id = ?").bind(1, tail[used].first).exec();
        return;
    }
    if (!tail.empty() && (tail.back().second < kTail || k >= tail.back().second)) {
        Series block; // (it stays short of full: the tail and the batch do not fill one)
        readBlock(tail.back().first, block);
        appendPoints(block);
        writeBlock(db, tail.back().first, runId, keyId, block, 0, block.ids.size());
        return;
    }
    for (std::size_t from = 0; from < k; from += kFull)
        writeBlock(db, 0, runId, keyId, points, from, std::min(kFull, k - from));
}

} // namespace

struct MetricStore::KeyRow {
    std::int64_t id = 0;
    std::int64_t count = 0;
    bool ordered = true;
};

MetricStore::MetricStore(Store::Database& db)
    : m_db(db) {
    if (!m_db.readOnly())
        adoptRows();
}

void MetricStore::adoptRows() {
    auto lock = m_db.lock();
    auto legacy = m_db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metrics'");
    if (!legacy.step())
        return;
    legacy.reset();
    Store::Database::Transaction tx(m_db);
    std::vector<std::pair<std::int64_t, std::int64_t>> keys; // (key id, run id)
    {
        auto k = m_db.prepare("SELECT id, run_id FROM metric_keys ORDER BY id");
        while (k.step())
            keys.emplace_back(k.int64(0), k.int64(1));
    }
    auto rows =
        m_db.prepare("SELECT id, step, ts, value FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY id");
    auto ordered = m_db.prepare("UPDATE metric_keys SET ordered = ? WHERE id = ?");
    for (const auto& [keyId, runId] : keys) {
        Series s;
        rows.bind(1, runId).bind(2, keyId);
        while (rows.step()) {
            s.ids.push_back(rows.int64(0));
            s.steps.push_back(rows.int64(1));
            s.timestamps.push_back(rows.real(2));
            s.values.push_back(rows.real(3));
        }
        rows.reset();
        if (s.ids.empty())
            continue;
        appendToBlocks(m_db, runId, keyId, s);
        ordered.bind(1, std::is_sorted(s.steps.begin(), s.steps.end()) ? 1 : 0).bind(2, keyId).exec();
        ordered.reset();
    }
    m_db.exec("DROP TABLE metrics");
    tx.commit();
}

std::optional<MetricStore::KeyRow> MetricStore::findKey(Store::Database& db, std::int64_t runId,
                                                        const std::string& key) {
    auto st = db.prepare("SELECT id, count, ordered FROM metric_keys WHERE run_id = ? AND name = ?");
    st.bind(1, runId).bind(2, key);
    if (!st.step())
        return std::nullopt;
    return KeyRow{st.int64(0), st.int64(1), st.int64(2) != 0};
}

std::optional<std::int64_t> MetricStore::lastBatch(std::int64_t runId, const std::string& client) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT MAX(seq) FROM metric_batches WHERE run_id = ? AND client = ?");
    st.bind(1, runId).bind(2, client);
    return st.step() ? st.optInt64(0) : std::nullopt;
}

// Group commit: whoever finds no commit under way takes every batch waiting (its own and those that came
// while the previous group committed) into one transaction, each batch inside its own savepoint so that one
// failing changes nothing of the others; then wakes them all. Concurrent batches (many runs logging at once)
// then cost one commit between them instead of one each, and each is still answered after its commit.
bool MetricStore::ingest(std::int64_t runId, Columns& points, const BatchId* batch) {
    Pending mine;
    mine.runId = runId;
    mine.points = &points;
    mine.batch = batch;
    std::unique_lock queue(m_groupMutex);
    m_waiting.push_back(&mine);
    while (!mine.done) {
        if (m_committing) {
            m_groupDone.wait(queue);
            continue;
        }
        m_committing = true;
        auto group = std::move(m_waiting);
        m_waiting.clear();
        queue.unlock();
        commitGroup(group);
        queue.lock();
        for (auto* p : group)
            p->done = true;
        m_committing = false;
        m_groupDone.notify_all();
    }
    if (mine.error)
        std::rethrow_exception(mine.error);
    return mine.stored;
}

void MetricStore::commitGroup(const std::vector<Pending*>& group) {
    ++m_commits;
    try {
        const double now = Util::nowSeconds();
        auto lock = m_db.lock();
        Store::Database::Transaction tx(m_db);
        for (auto* p : group) {
            if (group.size() == 1) { // (alone: the transaction is its savepoint)
                p->stored = ingestLocked(*p, now);
                break;
            }
            m_db.exec("SAVEPOINT batch");
            try {
                p->stored = ingestLocked(*p, now);
                m_db.exec("RELEASE batch");
            } catch (...) {
                p->error = std::current_exception();
                m_db.exec("ROLLBACK TO batch");
                m_db.exec("RELEASE batch");
            }
        }
        tx.commit();
    } catch (...) { // nothing of the group is stored (the disk is full, say): each hears why
        for (auto* p : group) {
            p->error = std::current_exception();
            p->stored = false;
        }
    }
    remember(group);
}

void MetricStore::remember(const std::vector<Pending*>& group) {
    std::lock_guard lock(m_recentMutex);
    const double now = Util::nowSeconds();
    for (auto* p : group) {
        if (!p->stored || p->error)
            continue;
        auto& r = m_recent[p->runId];
        r.used = now;
        if (p->points->size() > kRecentPoints) { // too large to keep: the feed reads it from the database
            r.batches.clear();
            r.points = 0;
            continue;
        }
        r.points += p->points->size();
        r.batches.emplace_back(p->firstId, *p->points);
        while (r.points > kRecentPoints || r.batches.size() > kRecentBatches) {
            r.points -= r.batches.front().second.size();
            r.batches.pop_front();
        }
    }
    if (now - m_recentSwept > 10) { // runs that stopped logging a while ago are not followed live
        m_recentSwept = now;
        std::erase_if(m_recent, [now](const auto& kv) { return now - kv.second.used > 60; });
    }
}

std::optional<std::map<std::string, Series>> MetricStore::recent(std::int64_t runId, std::int64_t afterId,
                                                                 std::int64_t limit) {
    std::lock_guard lock(m_recentMutex);
    const auto it = m_recent.find(runId);
    if (it == m_recent.end() || it->second.batches.empty() || afterId < it->second.batches.front().first - 1)
        return std::nullopt; // not all of what follows the cursor is in memory
    std::map<std::string, Series> out;
    std::int64_t taken = 0;
    for (const auto& [firstId, batch] : it->second.batches) {
        if (firstId + static_cast<std::int64_t>(batch.size()) <= afterId + 1)
            continue;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto id = firstId + static_cast<std::int64_t>(i);
            if (id <= afterId)
                continue;
            auto& s = out[batch.keys[batch.key.empty() ? 0 : batch.key[i]]];
            s.ids.push_back(id);
            s.steps.push_back(batch.steps[i]);
            s.timestamps.push_back(batch.timestamps[i]);
            s.values.push_back(batch.values[i]);
            ++taken;
        }
        if (taken >= limit)
            break;
    }
    return out;
}

bool MetricStore::ingestLocked(Pending& p, double now) {
    const auto runId = p.runId;
    auto& points = *p.points;
    const auto* batch = p.batch;
    if (batch) {
        // The batch's id is written in the same transaction as its points: both are stored, or neither.
        const auto digest = digestOf(points);
        m_db.prepare("INSERT OR IGNORE INTO metric_batches(run_id, client, seq, points, digest) "
                     "VALUES(?, ?, ?, ?, ?)")
            .bind(1, runId)
            .bind(2, batch->client)
            .bind(3, batch->seq)
            .bind(4, static_cast<std::int64_t>(points.size()))
            .bind(5, digest)
            .exec();
        if (m_db.changes() == 0) {
            // Stored before: the same batch sent again (a lost reply) is acknowledged and stores nothing;
            // other points under the same id are a client's mistake, refused rather than dropped.
            auto stored =
                m_db.prepare("SELECT points, digest FROM metric_batches WHERE run_id = ? AND client = ? "
                             "AND seq = ?");
            stored.bind(1, runId).bind(2, batch->client).bind(3, batch->seq);
            if (stored.step() && (stored.int64(0) != static_cast<std::int64_t>(points.size()) ||
                                  (stored.int64(1) != 0 && stored.int64(1) != digest)))
                throw UserError(409, "batch " + std::to_string(batch->seq) + " of client " + batch->client +
                                         " was stored before with other points: a client numbers each "
                                         "batch it sends once (send new points under a new seq)");
            return false;
        }
    }
    std::int64_t nextId = 1;
    {
        auto last = m_db.prepare("SELECT MAX(last_id) FROM metric_blocks WHERE run_id = ?");
        last.bind(1, runId);
        if (last.step() && !last.isNull(0))
            nextId = last.int64(0) + 1;
    }
    p.firstId = nextId; // the batch's points take the ids that follow, in order
    struct KeyState {
        std::int64_t id = 0;
        std::int64_t nextStep = 0;
        std::int64_t lastStep = -1; // of the key's last stored point; -1: none
        bool ordered = true;
        double min = std::numeric_limits<double>::infinity();
        double max = -std::numeric_limits<double>::infinity();
        Series added;
    };
    std::vector<KeyState> keys(points.keys.size()); // looked up at a key's first point: no empty keys
    auto find = m_db.prepare(
        "SELECT id, next_step, last_step, ordered FROM metric_keys WHERE run_id = ? AND name = ?");
    for (std::size_t i = 0; i < points.size(); ++i) {
        auto& k = keys[points.key[i]];
        if (k.id == 0) {
            const auto& name = points.keys[points.key[i]];
            find.bind(1, runId).bind(2, name);
            if (find.step()) {
                k.id = find.int64(0);
                k.nextStep = find.int64(1);
                k.lastStep = find.isNull(2) ? -1 : find.int64(2);
                k.ordered = find.int64(3) != 0;
            } else {
                m_db.prepare("INSERT INTO metric_keys(run_id, name) VALUES(?, ?)")
                    .bind(1, runId)
                    .bind(2, name)
                    .exec();
                k.id = m_db.lastInsertId();
            }
            find.reset();
        }
        auto& step = points.steps[i];
        if (step == kNextStep)
            step = k.nextStep;
        k.nextStep = std::max(k.nextStep, step + 1);
        if (step < k.lastStep)
            k.ordered = false;
        k.lastStep = step;
        if (points.timestamps[i] <= 0)
            points.timestamps[i] = now;
        const double value = points.values[i];
        k.min = std::min(k.min, value);
        k.max = std::max(k.max, value);
        k.added.ids.push_back(nextId++);
        k.added.steps.push_back(step);
        k.added.timestamps.push_back(points.timestamps[i]);
        k.added.values.push_back(value);
    }
    auto upd = m_db.prepare(
        "UPDATE metric_keys SET next_step = ?, count = count + ?, last_value = ?, last_step = ?, "
        "min_value = MIN(COALESCE(min_value, ?), ?), max_value = MAX(COALESCE(max_value, ?), ?), ordered = ? "
        "WHERE id = ?");
    for (const auto& k : keys) {
        if (k.added.ids.empty())
            continue;
        appendToBlocks(m_db, runId, k.id, k.added);
        upd.bind(1, k.nextStep).bind(2, static_cast<std::int64_t>(k.added.ids.size()));
        upd.bind(3, k.added.values.back()).bind(4, k.lastStep);
        upd.bind(5, k.min)
            .bind(6, k.min)
            .bind(7, k.max)
            .bind(8, k.max)
            .bind(9, k.ordered ? 1 : 0)
            .bind(10, k.id);
        upd.exec();
        upd.reset();
    }
    return true;
}

Json MetricStore::keys(std::int64_t runId) {
    auto db = m_db.reader();
    auto st = db->prepare("SELECT name, count, last_value, last_step, min_value, max_value FROM metric_keys "
                          "WHERE run_id = ? ORDER BY name");
    st.bind(1, runId);
    Json out = Json::array();
    while (st.step()) {
        Json k = {{"key", st.text(0)}, {"count", st.int64(1)}};
        k["last"] = st.isNull(2) ? Json(nullptr) : Json(st.real(2));
        k["last_step"] = st.isNull(3) ? Json(nullptr) : Json(st.int64(3));
        k["min"] = st.isNull(4) ? Json(nullptr) : Json(st.real(4));
        k["max"] = st.isNull(5) ? Json(nullptr) : Json(st.real(5));
        out.push_back(std::move(k));
    }
    return out;
}

Series MetricStore::history(std::int64_t runId, const std::string& key, std::size_t from) {
    auto db = m_db.reader();
    Series s;
    const auto k = findKey(*db, runId, key);
    if (!k || static_cast<std::int64_t>(from) >= k->count)
        return s;
    // One pass over the blocks, each column copied once into its place (no ids: a history has no cursor).
    const auto n = static_cast<std::size_t>(k->count) - from;
    s.steps.resize(n);
    s.timestamps.resize(n);
    s.values.resize(n);
    std::size_t at = 0, skipped = 0;
    auto st = db->prepare("SELECT n, steps, ts, vals FROM metric_blocks WHERE key_id = ? ORDER BY id");
    st.bind(1, k->id);
    while (st.step()) {
        const auto count = static_cast<std::size_t>(st.int64(0));
        if (skipped + count <= from) { // wholly before `from`: its columns are never read
            skipped += count;
            continue;
        }
        const auto first = from > skipped ? from - skipped : 0; // (the block `from` falls in)
        skipped += first;
        const auto take = count - first;
        if (at + take > n) { // (count is kept with the points: never, unless the file was edited)
            s.steps.resize(at + take);
            s.timestamps.resize(at + take);
            s.values.resize(at + take);
        }
        auto copy = [&](auto& column, std::string_view blob) {
            const auto bytes = std::min(blob.size() > first * 8 ? blob.size() - first * 8 : 0, take * 8);
            if (bytes)
                std::memcpy(column.data() + at, blob.data() + first * 8, bytes);
        };
        copy(s.steps, st.blob(1));
        copy(s.timestamps, st.blob(2));
        copy(s.values, st.blob(3));
        at += take;
    }
    s.steps.resize(at);
    s.timestamps.resize(at);
    s.values.resize(at);
    return s;
}

Columns MetricStore::everything(std::int64_t runId, std::int64_t& cursor) {
    auto db = m_db.reader();
    db->exec("BEGIN"); // one read transaction: the points and the cursor agree
    struct End {
        Store::Database& db;
        ~End() {
            try {
                db.exec("COMMIT");
            } catch (const std::exception&) {
            }
        }
    } end{*db};
    Columns c;
    cursor = 0;
    {
        auto last = db->prepare("SELECT MAX(last_id) FROM metric_blocks WHERE run_id = ?");
        last.bind(1, runId);
        if (last.step() && !last.isNull(0))
            cursor = last.int64(0);
    }
    auto st = db->prepare("SELECT k.name, b.steps, b.ts, b.vals FROM metric_keys k JOIN metric_blocks b ON "
                          "b.key_id = k.id WHERE k.run_id = ? ORDER BY k.name, b.id");
    st.bind(1, runId);
    while (st.step()) {
        const auto name = st.text(0);
        if (c.keys.empty() || c.keys.back() != name)
            c.keys.push_back(name);
        appendBlob(c.steps, st.blob(1));
        appendBlob(c.timestamps, st.blob(2));
        appendBlob(c.values, st.blob(3));
        c.key.resize(c.values.size(), static_cast<std::uint32_t>(c.keys.size() - 1));
    }
    return c;
}

Series MetricStore::lod(std::int64_t runId, const std::string& key, std::optional<double> fromStep,
                        std::optional<double> toStep, int buckets, std::int64_t* total) {
    Series out;
    std::optional<KeyRow> k;
    {
        auto db = m_db.reader();
        k = findKey(*db, runId, key);
    }
    if (total)
        *total = k ? k->count : 0;
    if (!k || buckets <= 0 || (fromStep && toStep && !(*toStep >= *fromStep)))
        return out;
    if (!k->ordered) // not in step order: given whole
        return history(runId, key);
    auto db = m_db.reader();
    // The key's block summaries, in order, with the index of each block's first point in the series.
    struct Point {
        std::int64_t at;
        std::int64_t step;
        double ts;
        double value;
    };
    struct Summary {
        std::int64_t rowId, start, n;
        Point first, last, min, max;
    };
    std::vector<Summary> blocks;
    {
        auto st =
            db->prepare("SELECT id, n, first_step, first_ts, first_value, last_step, last_ts, last_value, "
                        "min_at, min_step, min_ts, min_value, max_at, max_step, max_ts, max_value "
                        "FROM metric_blocks WHERE key_id = ? ORDER BY id");
        st.bind(1, k->id);
        std::int64_t start = 0;
        while (st.step()) {
            Summary b{st.int64(0), start, st.int64(1), {}, {}, {}, {}};
            b.first = {start, st.int64(2), st.real(3), st.real(4)};
            b.last = {start + b.n - 1, st.int64(5), st.real(6), st.real(7)};
            b.min = {start + st.int64(8), st.int64(9), st.real(10), st.real(11)};
            b.max = {start + st.int64(12), st.int64(13), st.real(14), st.real(15)};
            start += b.n;
            blocks.push_back(b);
        }
    }
    const std::int64_t n = blocks.empty() ? 0 : blocks.back().start + blocks.back().n;
    if (n == 0)
        return out;
    const double from = fromStep.value_or(double(blocks.front().first.step));
    const double to = toStep.value_or(double(blocks.back().last.step));
    if (!(to >= from))
        return out;
    // A block's points, read when needed (the last one read is kept: the search and the walk share it).
    auto points = db->prepare("SELECT ids, steps, ts, vals FROM metric_blocks WHERE id = ?");
    std::int64_t loaded = -1;
    Series block;
    auto load = [&](const Summary& b) -> const Series& {
        if (loaded != b.rowId) {
            block = {};
            points.bind(1, b.rowId);
            if (points.step())
                appendSeries(block, points, 0);
            points.reset();
            loaded = b.rowId;
        }
        return block;
    };
    // The first point whose step is >= x (upper: > x), as in std::lower_bound / upper_bound over the series.
    auto bound = [&](double x, bool upper) -> std::int64_t {
        auto past = [&](std::int64_t step) { return upper ? double(step) > x : double(step) >= x; };
        const auto it = std::partition_point(blocks.begin(), blocks.end(),
                                             [&](const Summary& b) { return !past(b.last.step); });
        if (it == blocks.end())
            return n;
        const auto& s = load(*it);
        const auto in =
            std::partition_point(s.steps.begin(), s.steps.end(), [&](std::int64_t v) { return !past(v); });
        return it->start + (in - s.steps.begin());
    };
    std::int64_t begin = bound(from, false), end = bound(to, true);
    if (begin > 0)
        --begin; // one point left of the range
    if (end < n)
        ++end; // one point right of the range
    auto add = [&](const Point& p) {
        out.ids.push_back(p.at);
        out.steps.push_back(p.step);
        out.timestamps.push_back(p.ts);
        out.values.push_back(p.value);
    };
    const auto firstBlock = std::partition_point(blocks.begin(), blocks.end(),
                                                 [&](const Summary& b) { return b.start + b.n <= begin; });
    auto eachPoint = [&](const Summary& b, auto&& f) {
        const auto& s = load(b);
        for (auto i = std::max(b.start, begin); i < std::min(b.start + b.n, end); ++i) {
            const auto j = static_cast<std::size_t>(i - b.start);
            f(Point{i, s.steps[j], s.timestamps[j], s.values[j]});
        }
    };
    if (end - begin <= static_cast<std::int64_t>(buckets) * 4) { // few enough to give as they are
        for (auto b = firstBlock; b != blocks.end() && b->start < end; ++b)
            eachPoint(*b, add);
        return out;
    }
    // Per pixel column, the first, minimum, maximum and last point (the first of equal extremes), as
    // reduceMinMax picks them: whole blocks inside one column count by their summary.
    const Buckets columns(from, to, buckets);
    bool open = false;
    long bucket = 0;
    Point first{}, min{}, max{}, last{};
    auto flush = [&] {
        if (!open)
            return;
        std::array<const Point*, 4> picked = {&first, &min, &max, &last};
        std::sort(picked.begin(), picked.end(), [](const Point* a, const Point* b) { return a->at < b->at; });
        std::int64_t prev = -1;
        for (const auto* p : picked) {
            if (p->at != prev)
                add(*p);
            prev = p->at;
        }
    };
    auto take = [&](long b, const Point& f, const Point& lo, const Point& hi, const Point& l) {
        if (!open || b != bucket) {
            flush();
            open = true;
            bucket = b;
            first = f, min = lo, max = hi, last = l;
            return;
        }
        if (lo.value < min.value)
            min = lo;
        if (hi.value > max.value)
            max = hi;
        last = l;
    };
    for (auto b = firstBlock; b != blocks.end() && b->start < end; ++b) {
        const long bFirst = columns.of(double(b->first.step)), bLast = columns.of(double(b->last.step));
        if (b->start >= begin && b->start + b->n <= end && bFirst == bLast)
            take(bFirst, b->first, b->min, b->max, b->last);
        else
            eachPoint(*b, [&](const Point& p) { take(columns.of(double(p.step)), p, p, p, p); });
    }
    flush();
    return out;
}

std::map<std::string, Series> MetricStore::after(std::int64_t runId, std::int64_t afterId,
                                                 std::int64_t limit) {
    if (auto fromMemory = recent(runId, afterId, limit))
        return std::move(*fromMemory);
    auto db = m_db.reader();
    // Blocks holding points past the cursor, in the order of their first point. Reading stops once `limit`
    // points are in hand; points at or past the next unread block's first id are then left for the next
    // call, so the cursor never skips a point of another key.
    auto st = db->prepare("SELECT k.name, b.first_id, b.ids, b.steps, b.ts, b.vals FROM metric_blocks b "
                          "JOIN metric_keys k ON k.id = b.key_id WHERE b.run_id = ? AND b.last_id > ? "
                          "ORDER BY b.first_id");
    st.bind(1, runId).bind(2, afterId);
    std::map<std::string, Series> out;
    std::int64_t taken = 0;
    std::int64_t lowest = std::numeric_limits<std::int64_t>::max(); // the lowest id in hand
    std::int64_t cut = std::numeric_limits<std::int64_t>::max();
    while (st.step()) {
        if (taken >= limit && lowest < st.int64(1)) { // (else nothing would be left below the cut)
            cut = st.int64(1) - 1;
            break;
        }
        Series block;
        appendSeries(block, st, 2);
        auto& s = out[st.text(0)];
        for (std::size_t i = 0; i < block.ids.size(); ++i) {
            if (block.ids[i] <= afterId)
                continue;
            s.ids.push_back(block.ids[i]);
            s.steps.push_back(block.steps[i]);
            s.timestamps.push_back(block.timestamps[i]);
            s.values.push_back(block.values[i]);
            lowest = std::min(lowest, block.ids[i]);
            ++taken;
        }
    }
    if (cut != std::numeric_limits<std::int64_t>::max()) {
        for (auto& [name, s] : out) {
            const auto keep =
                static_cast<std::size_t>(std::upper_bound(s.ids.begin(), s.ids.end(), cut) - s.ids.begin());
            s.ids.resize(keep);
            s.steps.resize(keep);
            s.timestamps.resize(keep);
            s.values.resize(keep);
        }
    }
    std::erase_if(out, [](auto& kv) { return kv.second.ids.empty(); });
    return out;
}

} // namespace Kiln::Metrics
