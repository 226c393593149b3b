// /api/v1/runs/{id}/metrics and /metrics/history (see API.md): batches of points in, as JSON or as binary
// columns (metrics/Columns.h), and a key's history out, as JSON or binary columns when the client accepts
// them.
#include "Service.h"

#include "api/Validation.h"
#include "metrics/Columns.h"
#include "metrics/MetricStore.h"
#include "runs/Run.h"
#include "runs/RunStore.h"
#include "server/ChangeHub.h"
#include "sweeps/Controller.h"
#include "util/Error.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

namespace Kiln::Api {

namespace {

// Whether a Content-Type or Accept header names the binary metric format (parameters and case aside).
bool namesBinary(std::string_view header) {
    std::string lower(header);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return lower.find(Metrics::kBinaryType) != std::string::npos;
}

Metrics::Columns parsePoints(const Json& body) {
    if (!body.contains("points") || !body["points"].is_array())
        throw badRequest("body needs a 'points' array");
    const auto& arr = body["points"];
    if (arr.size() > Metrics::kMaxPoints)
        throw UserError(413, "at most 1000000 points per batch");
    Metrics::Columns out;
    out.reserve(arr.size());
    std::unordered_map<std::string, std::uint32_t> keys; // (a batch may name a million keys)
    for (const auto& p : arr) {
        if (!p.is_object())
            throw badRequest("each point must be an object {key, value, step?, timestamp?}");
        const auto key = validName(p.contains("key") ? p["key"] : Json(), "point key");
        if (!p.contains("value") || !p["value"].is_number())
            throw badRequest("point '" + key + "' needs a numeric value");
        const auto value = p["value"].get<double>();
        if (!std::isfinite(value))
            throw badRequest("point '" + key + "' has a value that is not finite");
        auto step = Metrics::kNextStep;
        if (p.contains("step") && !p["step"].is_null()) {
            if (!p["step"].is_number_integer())
                throw badRequest("point '" + key + "': step must be an integer");
            step = p["step"].get<std::int64_t>();
            if (step < 0 || step > Metrics::kMaxStep)
                throw badRequest("point '" + key + "': step out of range");
        }
        double timestamp = 0;
        if (p.contains("timestamp") && !p["timestamp"].is_null()) {
            if (!p["timestamp"].is_number())
                throw badRequest("point '" + key + "': timestamp must be a number (seconds since 1970)");
            timestamp = p["timestamp"].get<double>();
            if (!std::isfinite(timestamp) || timestamp < 0 || timestamp > Metrics::kMaxTimestamp)
                throw badRequest("point '" + key + "': timestamp out of range");
        }
        const auto [it, added] = keys.try_emplace(key, static_cast<std::uint32_t>(out.keys.size()));
        if (added)
            out.keys.push_back(key);
        out.add(it->second, step, timestamp, value);
    }
    return out;
}

// A batch's optional identity: {"client": "<id>", "seq": N}. Both or neither.
std::optional<Metrics::BatchId> parseBatchId(const Json& body) {
    const bool client = body.contains("client") && !body["client"].is_null();
    const bool seq = body.contains("seq") && !body["seq"].is_null();
    if (!client && !seq)
        return std::nullopt;
    if (!client || !seq)
        throw badRequest("a batch names both its 'client' and its 'seq', or neither");
    Metrics::BatchId id;
    id.client = validName(body["client"], "client", 100);
    if (!body["seq"].is_number_integer() || body["seq"].get<std::int64_t>() < 0)
        throw badRequest("'seq' must be a non-negative integer");
    id.seq = body["seq"].get<std::int64_t>();
    return id;
}

// {"key", "series": {steps, timestamps, values}, "total"?} written straight from the columns: a million
// points make a 48 MB answer, which a JSON document built first would take twice over (and ten times the
// time). Numbers are written as nlohmann-json writes them (shortest round trip; whole doubles with ".0").
// A history as JSON, {"key", "series": {"steps", "timestamps", "values"}, "total"?}, written in pieces: a
// million points make about 48 MB of text, sent as it is made from the 24 MB of columns (never whole).
class HistoryJson {
public:
    HistoryJson(const std::string& key, Metrics::Series s, std::optional<std::int64_t> total)
        : m_s(std::move(s)) {
        m_s.ids = {}; // (not sent)
        m_head = "{\"key\":" + dump(Json(key)) + ",\"series\":{";
        if (total)
            m_tail = ",\"total\":" + std::to_string(*total);
        m_tail += '}';
    }
    std::size_t points() const { return m_s.values.size(); }
    // Appends up to about `room` bytes; false once all of it was written.
    bool write(std::string& out, std::size_t room) {
        const std::size_t until = out.size() + room;
        if (m_part == 0) {
            out += m_head;
            m_part = 1;
        }
        while (m_part <= 3 && out.size() < until) {
            const char* name = m_part == 1 ? "steps" : m_part == 2 ? "timestamps" : "values";
            if (m_i == 0) {
                out += m_part == 1 ? "\"" : ",\"";
                out += name;
                out += "\":[";
            }
            const std::size_t n = m_s.values.size();
            for (; m_i < n && out.size() < until; ++m_i) {
                if (m_i)
                    out += ',';
                if (m_part == 1)
                    number(out, m_s.steps[m_i]);
                else if (m_part == 2)
                    number(out, m_s.timestamps[m_i]);
                else
                    number(out, m_s.values[m_i]);
            }
            if (m_i < n)
                return true;
            out += ']';
            m_i = 0;
            ++m_part;
        }
        if (m_part <= 3)
            return true;
        out += '}';
        out += m_tail;
        return false;
    }

private:
    template <typename T> static void number(std::string& out, T v) {
        char buf[32];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, end);
        if constexpr (std::is_floating_point_v<T>)
            if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e' || c == 'n'; }) == end)
                out += ".0";
    }
    Metrics::Series m_s;
    std::string m_head, m_tail;
    int m_part = 0; // 0: nothing written; 1-3: steps, timestamps, values; 4: the end
    std::size_t m_i = 0;
};

Response historyJson(const std::string& key, Metrics::Series s, std::optional<std::int64_t> total) {
    auto writer = std::make_shared<HistoryJson>(key, std::move(s), total);
    Response out;
    if (writer->points() * 48 < Response::kPiece) { // small: in one piece
        writer->write(out.body, std::numeric_limits<std::size_t>::max());
        return out;
    }
    out.next = [writer](std::string& piece) { return writer->write(piece, Response::kPiece); };
    return out;
}

} // namespace

namespace {
// {id} as a run that exists, reading only its status (many small requests: no more than they need).
Runs::RunStatus liveStatus(Runs::RunStore& runs, std::int64_t id) {
    const auto live = runs.liveness(id);
    if (!live)
        throw notFound("no such run: " + std::to_string(id));
    return live->status;
}
} // namespace

Response Service::metricKeys(Call& c) {
    const auto id = c.id("run");
    liveStatus(m_d.runs, id);
    return jsonResponse(200, dump(m_d.metrics.keys(id)));
}

Response Service::logMetrics(Call& c) {
    const auto id = c.id("run");
    const auto& r = c.request;
    if (Runs::isTerminal(liveStatus(m_d.runs, id)) && !c.workspace)
        throw UserError(409, "run has ended");
    Metrics::Columns points;
    std::optional<Metrics::BatchId> batch;
    if (namesBinary(r.contentType)) {
        try {
            points = Metrics::decode(r.body, batch);
        } catch (const std::invalid_argument& e) {
            throw badRequest(e.what());
        }
    } else {
        const auto body = parseBody(r.body);
        points = parsePoints(body);
        batch = parseBatchId(body);
    }
    if (const int wait = m_limiter.admit(id, points.size())) {
        auto busy =
            errorResponse(429, "run " + std::to_string(id) + " logs faster than this server's limit of " +
                                   std::to_string(static_cast<long long>(m_limiter.rate())) +
                                   " points/s; send the batch again in " + std::to_string(wait) + " s");
        busy.headers["Retry-After"] = std::to_string(wait);
        return busy;
    }
    const bool stored = m_d.metrics.ingest(id, points, batch ? &*batch : nullptr);
    if (stored) {
        m_d.hub.notify(id);
        m_d.sweeps.metricsLogged(id); // a trial's primary metric may stop it
    }
    return jsonResponse(200, dump({{"accepted", points.size()}, {"duplicate", !stored}}));
}

Response Service::metricHistory(Call& c) {
    const auto id = c.id("run");
    liveStatus(m_d.runs, id);
    const auto& r = c.request;
    const auto& query = c.query;
    auto key = query.find("key");
    if (key == query.end() && namesBinary(r.accept) && query.count("buckets")) {
        // Every key's level of detail at once, over each key's own steps (a chart's first picture of a
        // run); X-Total-Count: the number of points of all keys (what full detail will bring).
        if (query.count("from") || query.count("to"))
            throw badRequest("'from' and 'to' need a 'key': every key at once is over each key's own steps");
        const int buckets = static_cast<int>(queryInt(query, "buckets", 1000, 1, 100000));
        Metrics::Columns all;
        std::int64_t totals = 0;
        for (const auto& k : m_d.metrics.keys(id)) {
            const auto name = k["key"].get<std::string>();
            std::int64_t total = 0;
            auto series = m_d.metrics.lod(id, name, std::nullopt, std::nullopt, buckets, &total);
            const auto index = static_cast<std::uint32_t>(all.keys.size());
            all.keys.push_back(name);
            for (std::size_t i = 0; i < series.values.size(); ++i)
                all.add(index, series.steps[i], series.timestamps[i], series.values[i]);
            totals += total;
        }
        Response out;
        out.contentType = std::string(Metrics::kBinaryType);
        out.body = Metrics::encode(all);
        out.headers["X-Total-Count"] = std::to_string(totals);
        return out;
    }
    if (key == query.end() && namesBinary(r.accept)) {
        // Every key at once, with the cursor the live feed continues from (a chart opening a run).
        std::int64_t cursor = 0;
        auto all = m_d.metrics.everything(id, cursor);
        Response out;
        out.contentType = std::string(Metrics::kBinaryType);
        out.body = Metrics::encode(all);
        out.headers["X-Metrics-Cursor"] = std::to_string(cursor);
        return out;
    }
    if (key == query.end())
        throw badRequest("query parameter 'key' is required (or every key at once, in binary: send "
                         "'Accept: application/x-kiln-metrics')");
    if (key->second.empty() || key->second.size() > 250)
        throw badRequest("query parameter 'key' must have 1 to 250 characters");
    // Level of detail: what a chart `buckets` pixels wide shows of steps [from, to].
    const bool lod = query.count("buckets") > 0;
    std::int64_t total = 0;
    auto series = lod ? m_d.metrics.lod(id, key->second, queryNumber(query, "from", -9e15, 9e15),
                                        queryNumber(query, "to", -9e15, 9e15),
                                        static_cast<int>(queryInt(query, "buckets", 1000, 1, 100000)), &total)
                      : m_d.metrics.history(id, key->second);
    if (namesBinary(r.accept)) {
        Metrics::Columns one;
        one.keys = {key->second}; // (one key: no key column)
        one.steps = std::move(series.steps);
        one.timestamps = std::move(series.timestamps);
        one.values = std::move(series.values);
        Response out;
        out.contentType = std::string(Metrics::kBinaryType);
        out.body = Metrics::encode(one);
        if (lod)
            out.headers["X-Total-Count"] = std::to_string(total);
        return out;
    }
    return historyJson(key->second, std::move(series), lod ? std::optional(total) : std::nullopt);
}

} // namespace Kiln::Api
