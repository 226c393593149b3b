#include "MetricStore.h"

#include "store/Database.h"
#include "util/Fs.h"

#include <limits>

namespace Kiln::Metrics {

Json toJson(const Series& s) {
    return {{"steps", s.steps}, {"timestamps", s.timestamps}, {"values", s.values}};
}

std::int64_t MetricStore::keyId(std::int64_t runId, const std::string& key, std::int64_t& nextStep) {
    auto find = m_db.prepare("SELECT id, next_step FROM metric_keys WHERE run_id = ? AND name = ?");
    find.bind(1, runId).bind(2, key);
    if (find.step()) {
        nextStep = find.int64(1);
        return find.int64(0);
    }
    m_db.prepare("INSERT INTO metric_keys(run_id, name) VALUES(?, ?)").bind(1, runId).bind(2, key).exec();
    nextStep = 0;
    return m_db.lastInsertId();
}

std::optional<std::int64_t> MetricStore::lastBatch(std::int64_t runId, const std::string& client) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT MAX(seq) FROM metric_batches WHERE run_id = ? AND client = ?");
    st.bind(1, runId).bind(2, client);
    return st.step() ? st.optInt64(0) : std::nullopt;
}

bool MetricStore::ingest(std::int64_t runId, Columns& points, const BatchId* batch) {
    const double now = Util::nowSeconds();
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    if (batch) {
        // The batch's id is written in the same transaction as its points: both are stored, or neither.
        m_db.prepare("INSERT OR IGNORE INTO metric_batches(run_id, client, seq, points) VALUES(?, ?, ?, ?)")
            .bind(1, runId)
            .bind(2, batch->client)
            .bind(3, batch->seq)
            .bind(4, static_cast<std::int64_t>(points.size()))
            .exec();
        if (m_db.changes() == 0)
            return false; // stored before: acknowledge, store nothing
    }
    struct KeyState {
        std::int64_t id = 0;
        std::int64_t nextStep = 0;
        std::int64_t count = 0;
        double last = 0;
        std::int64_t lastStep = 0;
        double min = std::numeric_limits<double>::infinity();
        double max = -std::numeric_limits<double>::infinity();
    };
    std::vector<KeyState> keys(points.keys.size()); // looked up at a key's first point: no empty keys
    auto ins = m_db.prepare("INSERT INTO metrics(run_id, key_id, step, ts, value) VALUES(?, ?, ?, ?, ?)");
    for (std::size_t i = 0; i < points.size(); ++i) {
        auto& k = keys[points.key[i]];
        if (k.id == 0)
            k.id = keyId(runId, points.keys[points.key[i]], k.nextStep);
        auto& step = points.steps[i];
        if (step == kNextStep)
            step = k.nextStep;
        k.nextStep = std::max(k.nextStep, step + 1);
        if (points.timestamps[i] <= 0)
            points.timestamps[i] = now;
        const double value = points.values[i];
        ++k.count;
        k.last = value;
        k.lastStep = step;
        k.min = std::min(k.min, value);
        k.max = std::max(k.max, value);
        ins.bind(1, runId).bind(2, k.id).bind(3, step).bind(4, points.timestamps[i]).bind(5, value).exec();
        ins.reset();
    }
    auto upd = m_db.prepare(
        "UPDATE metric_keys SET next_step = ?, count = count + ?, last_value = ?, last_step = ?, "
        "min_value = MIN(COALESCE(min_value, ?), ?), max_value = MAX(COALESCE(max_value, ?), ?) "
        "WHERE id = ?");
    for (const auto& k : keys) {
        if (k.count == 0)
            continue;
        upd.bind(1, k.nextStep).bind(2, k.count).bind(3, k.last).bind(4, k.lastStep);
        upd.bind(5, k.min).bind(6, k.min).bind(7, k.max).bind(8, k.max).bind(9, k.id).exec();
        upd.reset();
    }
    tx.commit();
    return true;
}

Json MetricStore::keys(std::int64_t runId) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT name, count, last_value, last_step, min_value, max_value FROM metric_keys "
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

Series MetricStore::history(std::int64_t runId, const std::string& key) {
    auto lock = m_db.lock();
    auto st =
        m_db.prepare("SELECT m.id, m.step, m.ts, m.value FROM metric_keys k JOIN metrics m ON m.run_id = "
                     "k.run_id AND m.key_id = k.id WHERE k.run_id = ? AND k.name = ? ORDER BY m.id");
    st.bind(1, runId).bind(2, key);
    Series s;
    while (st.step()) {
        s.ids.push_back(st.int64(0));
        s.steps.push_back(st.int64(1));
        s.timestamps.push_back(st.real(2));
        s.values.push_back(st.real(3));
    }
    return s;
}

std::map<std::string, Series> MetricStore::after(std::int64_t runId, std::int64_t afterId,
                                                 std::int64_t limit) {
    auto lock = m_db.lock();
    std::vector<std::pair<std::int64_t, std::string>> keyList;
    {
        auto k = m_db.prepare("SELECT id, name FROM metric_keys WHERE run_id = ?");
        k.bind(1, runId);
        while (k.step())
            keyList.emplace_back(k.int64(0), k.text(1));
    }
    // Collect per key, then keep only ids below the smallest per-key cut so that the cursor never skips
    // a point of another key.
    std::map<std::string, Series> out;
    std::int64_t cut = std::numeric_limits<std::int64_t>::max();
    auto st = m_db.prepare("SELECT id, step, ts, value FROM metrics WHERE run_id = ? AND key_id = ? AND id > "
                           "? ORDER BY id LIMIT ?");
    for (const auto& [id, name] : keyList) {
        st.bind(1, runId).bind(2, id).bind(3, afterId).bind(4, limit);
        Series s;
        while (st.step()) {
            s.ids.push_back(st.int64(0));
            s.steps.push_back(st.int64(1));
            s.timestamps.push_back(st.real(2));
            s.values.push_back(st.real(3));
        }
        st.reset();
        if (static_cast<std::int64_t>(s.ids.size()) == limit)
            cut = std::min(cut, s.ids.back());
        if (!s.ids.empty())
            out.emplace(name, std::move(s));
    }
    if (cut != std::numeric_limits<std::int64_t>::max()) {
        for (auto& [name, s] : out) {
            std::size_t n = 0;
            while (n < s.ids.size() && s.ids[n] <= cut)
                ++n;
            s.ids.resize(n);
            s.steps.resize(n);
            s.timestamps.resize(n);
            s.values.resize(n);
        }
        std::erase_if(out, [](auto& kv) { return kv.second.ids.empty(); });
    }
    return out;
}

} // namespace Kiln::Metrics
