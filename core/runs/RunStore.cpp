#include "RunStore.h"

#include "runs/RunState.h"
#include "store/Database.h"
#include "util/Fs.h"

#include <algorithm>
#include <iostream>
#include <variant>

namespace Kiln::Runs {

using Store::Statement;

static constexpr const char* kRunColumns =
    "r.id, r.experiment_id, e.name, r.name, r.status, r.status_seq, r.script, r.args, r.source_path, "
    "r.snapshot, r.compute, r.created, r.started, r.ended, r.exit_code, r.signal, r.error, r.token_hash, "
    "r.supervisor_pid, r.pgid, r.cancel_requested, r.params, r.tags, r.node, r.dispatched, r.external_id, "
    "r.cancel_by, r.sweep_id, r.sweep_draw, r.starred, r.archived, r.note, r.system_interval "
    "FROM runs r JOIN "
    "experiments e "
    "ON "
    "e.id = r.experiment_id ";

static RunRecord readRun(const Statement& st) {
    RunRecord r;
    r.id = st.int64(0);
    r.experimentId = st.int64(1);
    r.experiment = st.text(2);
    r.name = st.text(3);
    r.status = statusFromString(st.text(4)).value_or(RunStatus::Failed);
    r.statusSeq = st.int64(5);
    r.script = st.text(6);
    r.args = Json::parse(st.text(7)).get<std::vector<std::string>>();
    r.sourcePath = st.text(8);
    r.snapshot = st.text(9);
    r.compute = st.text(10);
    r.created = st.real(11);
    r.started = st.optReal(12);
    r.ended = st.optReal(13);
    r.exitCode = st.optInt64(14);
    r.signal = st.optInt64(15);
    r.error = st.text(16);
    r.tokenHash = st.text(17);
    r.supervisorPid = st.optInt64(18);
    r.pgid = st.optInt64(19);
    r.cancelRequested = st.optReal(20);
    r.params = Json::parse(st.text(21));
    r.tags = Json::parse(st.text(22));
    r.node = st.text(23);
    r.dispatched = st.optReal(24);
    r.externalId = st.text(25);
    r.cancelBy = st.text(26);
    r.sweepId = st.optInt64(27);
    r.sweepDraw = st.optInt64(28).value_or(0);
    r.starred = st.int64(29) != 0;
    r.archived = st.int64(30) != 0;
    r.note = st.text(31);
    r.systemInterval = st.real(32);
    return r;
}

Json RunStore::experiments(bool archivedToo) {
    auto lock = m_db.lock();
    // Counts from the index on (experiment_id, archived, id); the newest run by its id.
    auto st = m_db.prepare(
        std::string("SELECT e.id, e.name, e.created, "
                    "(SELECT COUNT(*) FROM runs r WHERE r.archived = 0 AND r.experiment_id = e.id), "
                    "(SELECT r.created FROM runs r WHERE r.experiment_id = e.id ORDER BY r.id DESC LIMIT 1), "
                    "e.archived FROM experiments e ") +
        (archivedToo ? "" : "WHERE e.archived = 0 ") + "ORDER BY e.name");
    Json out = Json::array();
    while (st.step())
        out.push_back({{"id", st.int64(0)},
                       {"name", st.text(1)},
                       {"created", st.real(2)},
                       {"run_count", st.int64(3)},
                       {"last_run", st.isNull(4) ? Json(nullptr) : Json(st.real(4))},
                       {"archived", st.int64(5) != 0}});
    return out;
}

Json RunStore::liveCounts() {
    auto lock = m_db.lock();
    Json out = {{"Queued", 0}, {"Preparing", 0}, {"Running", 0}, {"Finalizing", 0}};
    auto st = m_db.prepare("SELECT status, COUNT(*) FROM runs WHERE status IN "
                           "('Queued', 'Preparing', 'Running', 'Finalizing') GROUP BY status");
    while (st.step())
        out[st.text(0)] = st.int64(1);
    return out;
}

std::int64_t RunStore::createRun(const NewRun& n) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    const double now = Util::nowSeconds();
    m_db.prepare("INSERT OR IGNORE INTO experiments(name, created) VALUES(?, ?)")
        .bind(1, n.experiment)
        .bind(2, now)
        .exec();
    auto find = m_db.prepare("SELECT id FROM experiments WHERE name = ?");
    find.bind(1, n.experiment).step();
    const auto experimentId = find.int64(0);
    m_db.prepare(
            "INSERT INTO runs(experiment_id, name, status, script, args, source_path, snapshot, compute, "
            "created, token_hash, params, sweep_id, sweep_draw, system_interval) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .bind(1, experimentId)
        .bind(2, n.name)
        .bind(3, toString(RunStatus::Queued))
        .bind(4, n.script)
        .bind(5, Json(n.args).dump())
        .bind(6, n.sourcePath)
        .bind(7, n.snapshot)
        .bind(8, n.compute)
        .bind(9, now)
        .bind(10, n.tokenHash)
        .bind(11, n.params.dump())
        .bind(12, n.sweepId)
        .bind(13, n.sweepId ? std::optional<std::int64_t>(n.sweepDraw) : std::nullopt)
        .bind(14, n.systemInterval)
        .exec();
    const auto id = m_db.lastInsertId();
    if (n.name.empty())
        m_db.prepare("UPDATE runs SET name = ? WHERE id = ?")
            .bind(1, n.experiment + " #" + std::to_string(id))
            .bind(2, id)
            .exec();
    tx.commit();
    return id;
}

std::optional<RunRecord> RunStore::load(std::int64_t id) {
    auto st = m_db.prepare(std::string("SELECT ") + kRunColumns + "WHERE r.id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return readRun(st);
}

std::optional<RunRecord> RunStore::run(std::int64_t id) {
    auto lock = m_db.lock();
    return load(id);
}

std::optional<RunStore::Liveness> RunStore::liveness(std::int64_t id) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT status, token_hash FROM runs WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return Liveness{statusFromString(st.text(0)).value_or(RunStatus::Failed), st.text(1)};
}

std::vector<RunRecord> RunStore::runs(const std::string& experiment, std::int64_t limit,
                                      std::int64_t offset) {
    auto db = m_db.reader();
    std::string sql = std::string("SELECT ") + kRunColumns;
    if (!experiment.empty())
        sql += "WHERE e.name = ?1 ";
    sql += "ORDER BY r.id DESC LIMIT ?2 OFFSET ?3";
    auto st = db->prepare(sql);
    if (!experiment.empty())
        st.bind(1, experiment);
    st.bind(2, limit).bind(3, offset);
    std::vector<RunRecord> out;
    while (st.step())
        out.push_back(readRun(st));
    return out;
}

static void bindAll(Statement& st, int& at, const std::vector<CompiledQuery::Value>& values) {
    for (const auto& v : values)
        std::visit([&](const auto& x) { st.bind(at++, x); }, v);
}

QueryResult RunStore::query(const RunQuery& q) {
    const auto compiled = compileQuery(q, Util::nowSeconds());
    auto db = m_db.reader();
    QueryResult out;
    auto count = db->prepare(
        "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE " + compiled.where);
    int at = 1;
    bindAll(count, at, compiled.whereBinds);
    if (count.step())
        out.total = count.int64(0);
    auto st = db->prepare(std::string("SELECT ") + kRunColumns + "WHERE " + compiled.where + " ORDER BY " +
                          compiled.order + " LIMIT ? OFFSET ?");
    at = 1;
    bindAll(st, at, compiled.whereBinds);
    bindAll(st, at, compiled.orderBinds);
    st.bind(at, q.limit).bind(at + 1, q.offset);
    while (st.step())
        out.runs.push_back(readRun(st));
    return out;
}

Json RunStore::metricSummaries(const std::vector<std::int64_t>& runIds) {
    Json out = Json::object();
    if (runIds.empty())
        return out;
    auto db = m_db.reader();
    std::string ids;
    for (auto id : runIds)
        ids += (ids.empty() ? "" : ",") + std::to_string(id);
    auto st = db->prepare("SELECT run_id, name, last_value, min_value, max_value, last_step, count "
                          "FROM metric_keys WHERE run_id IN (" +
                          ids + ")");
    auto real = [&](int c) { return st.isNull(c) ? Json(nullptr) : Json(st.real(c)); };
    while (st.step())
        out[std::to_string(st.int64(0))][st.text(1)] = {
            {"last", real(2)},
            {"min", real(3)},
            {"max", real(4)},
            {"step", st.optInt64(5) ? Json(*st.optInt64(5)) : Json()},
            {"count", st.int64(6)}};
    return out;
}

Json RunStore::columns(const std::string& experiment, std::int64_t sample) {
    auto db = m_db.reader();
    const std::string recent = "SELECT r.id, r.params, r.tags FROM runs r JOIN experiments e ON e.id = "
                               "r.experiment_id " +
                               std::string(experiment.empty() ? "" : "WHERE e.name = ?1 ") +
                               "ORDER BY r.id DESC LIMIT ?2";
    auto names = [&](const std::string& sql) {
        auto st = db->prepare("WITH recent AS (" + recent + ") " + sql);
        if (!experiment.empty())
            st.bind(1, experiment);
        st.bind(2, sample);
        Json list = Json::array();
        while (st.step())
            list.push_back(st.text(0));
        return list;
    };
    return {{"params", names("SELECT DISTINCT j.key FROM recent, json_each(recent.params) j WHERE j.key IS "
                             "NOT NULL ORDER BY 1")},
            {"tags", names("SELECT DISTINCT j.key FROM recent, json_each(recent.tags) j WHERE j.key IS NOT "
                           "NULL ORDER BY 1")},
            {"metrics",
             names("SELECT DISTINCT k.name FROM recent CROSS JOIN metric_keys k ON k.run_id = recent.id "
                   "ORDER BY 1")}};
}

std::vector<RunRecord> RunStore::trials(std::int64_t sweepId) {
    auto db = m_db.reader();
    auto st =
        db->prepare(std::string("SELECT ") + kRunColumns + "WHERE r.sweep_id = ? ORDER BY r.sweep_draw");
    st.bind(1, sweepId);
    std::vector<RunRecord> out;
    while (st.step())
        out.push_back(readRun(st));
    return out;
}

std::vector<RunRecord> RunStore::runsInStates(const std::vector<RunStatus>& states) {
    std::vector<RunRecord> out;
    auto lock = m_db.lock();
    for (auto s : states) {
        auto st = m_db.prepare(std::string("SELECT ") + kRunColumns + "WHERE r.status = ? ORDER BY r.id");
        st.bind(1, toString(s));
        while (st.step())
            out.push_back(readRun(st));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
    return out;
}

std::optional<RunRecord> RunStore::transition(std::int64_t id, RunStatus to,
                                              const std::function<void(RunRecord&)>& mutate,
                                              std::optional<RunStatus> expected) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    auto found = load(id);
    if (!found)
        return std::nullopt;
    auto& r = *found;
    if (expected && r.status != *expected)
        return std::nullopt; // someone else moved it first (a cancel, a restart): theirs stands
    const auto from = r.status;
    r.status = to;
    if (mutate)
        mutate(r); // may settle on another status (Failed rather than Completed): checked below
    if (!isLegalTransition(from, r.status)) {
        std::cerr << "kilnd: refused an illegal move of run " << id << " from " << toString(from) << " to "
                  << toString(r.status) << std::endl;
        return std::nullopt;
    }
    save(r);
    tx.commit();
    return r;
}

std::optional<RunRecord> RunStore::requestCancel(std::int64_t id, const std::string& by) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    auto found = load(id);
    if (!found)
        return std::nullopt;
    auto& r = *found;
    if (isTerminal(r.status))
        return r;
    const double now = Util::nowSeconds();
    if (!r.cancelRequested) {
        r.cancelRequested = now;
        r.cancelBy = by;
    }
    if (r.status == RunStatus::Queued && r.externalId.empty()) {
        r.status = RunStatus::Canceled;
        r.ended = now;
        r.error = "canceled by " + r.cancelBy + " before it started";
    }
    save(r);
    tx.commit();
    return r;
}

void RunStore::save(RunRecord& r) {
    auto st =
        m_db.prepare("UPDATE runs SET status=?, status_seq=status_seq+1, started=?, ended=?, exit_code=?, "
                     "signal=?, error=?, supervisor_pid=?, pgid=?, cancel_requested=?, token_hash=?, node=?, "
                     "dispatched=?, external_id=?, cancel_by=? "
                     "WHERE id=? RETURNING status_seq");
    st.bind(1, toString(r.status))
        .bind(2, r.started)
        .bind(3, r.ended)
        .bind(4, r.exitCode)
        .bind(5, r.signal)
        .bind(6, r.error)
        .bind(7, r.supervisorPid)
        .bind(8, r.pgid)
        .bind(9, r.cancelRequested)
        .bind(10, r.tokenHash)
        .bind(11, r.node)
        .bind(12, r.dispatched)
        .bind(13, r.externalId)
        .bind(14, r.cancelBy)
        .bind(15, r.id);
    if (st.step())
        r.statusSeq = st.int64(0);
    st.exec();
}

void RunStore::editJson(std::int64_t id, const char* column, const std::function<void(Json&)>& edit) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    auto get = m_db.prepare(std::string("SELECT ") + column + " FROM runs WHERE id = ?");
    get.bind(1, id);
    if (!get.step())
        return;
    auto current = Json::parse(get.text(0));
    edit(current);
    m_db.prepare(std::string("UPDATE runs SET ") + column + " = ?, status_seq = status_seq + 1 WHERE id = ?")
        .bind(1, current.dump())
        .bind(2, id)
        .exec();
    tx.commit();
}

void RunStore::mergeJson(std::int64_t id, const char* column, const Json& values) {
    editJson(id, column, [&](Json& current) { current.update(values); });
}

void RunStore::removeKeys(std::int64_t id, const char* column, const std::vector<std::string>& keys) {
    editJson(id, column, [&](Json& current) {
        for (const auto& k : keys)
            current.erase(k);
    });
}

void RunStore::manage(std::int64_t id, const std::optional<std::string>& name, std::optional<bool> starred,
                      std::optional<bool> archived, const std::optional<std::string>& note) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    if (name)
        m_db.prepare("UPDATE runs SET name = ? WHERE id = ?").bind(1, *name).bind(2, id).exec();
    if (starred)
        m_db.prepare("UPDATE runs SET starred = ? WHERE id = ?").bind(1, *starred ? 1 : 0).bind(2, id).exec();
    if (archived)
        m_db.prepare("UPDATE runs SET archived = ? WHERE id = ?")
            .bind(1, *archived ? 1 : 0)
            .bind(2, id)
            .exec();
    if (note)
        m_db.prepare("UPDATE runs SET note = ? WHERE id = ?").bind(1, *note).bind(2, id).exec();
    m_db.prepare("UPDATE runs SET status_seq = status_seq + 1 WHERE id = ?").bind(1, id).exec();
    tx.commit();
}

std::set<std::string> RunStore::deleteRun(std::int64_t id) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    std::set<std::string> blobs;
    auto files = m_db.prepare("SELECT blob FROM run_files WHERE run_id = ?");
    files.bind(1, id);
    while (files.step())
        blobs.insert(files.text(0));
    auto snap = m_db.prepare("SELECT r.snapshot, s.manifest, (SELECT COUNT(*) FROM runs o WHERE o.snapshot = "
                             "r.snapshot AND o.id != r.id) FROM runs r LEFT JOIN snapshots s ON s.hash = "
                             "r.snapshot WHERE r.id = ?");
    snap.bind(1, id);
    if (snap.step() && snap.int64(2) == 0) {
        try {
            for (const auto& f : Json::parse(snap.text(1)).at("files"))
                if (f.contains("sha256"))
                    blobs.insert(f["sha256"].get<std::string>());
        } catch (const std::exception&) { // an unreadable manifest names nothing to free
        }
        m_db.prepare("DELETE FROM snapshots WHERE hash = ?").bind(1, snap.text(0)).exec();
    }
    for (const char* table : {"metric_blocks", "metric_keys", "metric_batches", "logs", "log_offsets",
                              "run_files", "run_datasets", "run_environments"})
        m_db.prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ?").bind(1, id).exec();
    m_db.prepare("DELETE FROM runs WHERE id = ?").bind(1, id).exec();
    tx.commit();
    return blobs;
}

bool RunStore::renameExperiment(const std::string& from, const std::string& to) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    auto taken = m_db.prepare("SELECT 1 FROM experiments WHERE name = ?");
    taken.bind(1, to);
    if (taken.step())
        return false;
    m_db.prepare("UPDATE experiments SET name = ? WHERE name = ?").bind(1, to).bind(2, from).exec();
    if (m_db.changes() == 0)
        return false;
    m_db.prepare("UPDATE sweeps SET experiment = ? WHERE experiment = ?").bind(1, to).bind(2, from).exec();
    m_db.prepare("UPDATE runs SET status_seq = status_seq + 1 WHERE experiment_id = (SELECT id FROM "
                 "experiments WHERE name = ?)")
        .bind(1, to)
        .exec();
    tx.commit();
    return true;
}

bool RunStore::archiveExperiment(const std::string& name, bool archived) {
    auto lock = m_db.lock();
    m_db.prepare("UPDATE experiments SET archived = ? WHERE name = ?")
        .bind(1, archived ? 1 : 0)
        .bind(2, name)
        .exec();
    return m_db.changes() > 0;
}

void RunStore::putSnapshot(const std::string& hash, const std::string& manifest) {
    auto lock = m_db.lock();
    m_db.prepare("INSERT OR IGNORE INTO snapshots(hash, manifest) VALUES(?, ?)")
        .bind(1, hash)
        .bind(2, manifest)
        .exec();
}

std::optional<std::string> RunStore::snapshot(const std::string& hash) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT manifest FROM snapshots WHERE hash = ?");
    st.bind(1, hash);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

void RunStore::appendLogs(std::int64_t runId, const std::string& stream,
                          const std::vector<std::string>& lines, std::int64_t newOffset) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    const double now = Util::nowSeconds();
    auto ins = m_db.prepare("INSERT INTO logs(run_id, stream, line, ts) VALUES(?, ?, ?, ?)");
    for (const auto& line : lines) {
        ins.bind(1, runId).bind(2, stream).bind(3, line).bind(4, now).exec();
        ins.reset();
    }
    m_db.prepare("INSERT INTO log_offsets(run_id, stream, offset) VALUES(?, ?, ?) "
                 "ON CONFLICT(run_id, stream) DO UPDATE SET offset = excluded.offset")
        .bind(1, runId)
        .bind(2, stream)
        .bind(3, newOffset)
        .exec();
    tx.commit();
}

std::int64_t RunStore::logOffset(std::int64_t runId, const std::string& stream) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT offset FROM log_offsets WHERE run_id = ? AND stream = ?");
    st.bind(1, runId).bind(2, stream);
    return st.step() ? st.int64(0) : 0;
}

void RunStore::resetLogOffsets(std::int64_t runId) {
    auto lock = m_db.lock();
    m_db.prepare("DELETE FROM log_offsets WHERE run_id = ?").bind(1, runId).exec();
}

std::vector<LogLine> RunStore::logsAfter(std::int64_t runId, std::int64_t afterId, std::int64_t limit) {
    auto db = m_db.reader();
    auto st =
        db->prepare("SELECT id, stream, line, ts FROM logs WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?");
    st.bind(1, runId).bind(2, afterId).bind(3, limit);
    std::vector<LogLine> out;
    while (st.step())
        out.push_back({st.int64(0), st.text(1), st.text(2), st.real(3)});
    return out;
}

std::vector<std::string> RunStore::lastLines(std::int64_t runId, int count) {
    auto db = m_db.reader();
    auto st =
        db->prepare("SELECT line FROM logs WHERE run_id = ? AND stream = 'output' ORDER BY id DESC LIMIT ?");
    st.bind(1, runId).bind(2, count);
    std::vector<std::string> out;
    while (st.step())
        out.push_back(st.text(0));
    std::reverse(out.begin(), out.end());
    return out;
}

void RunStore::addFiles(std::int64_t runId, const std::vector<RunFile>& files) {
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    auto ins = m_db.prepare("INSERT OR REPLACE INTO run_files(run_id, path, blob, size) VALUES(?, ?, ?, ?)");
    for (const auto& f : files) {
        ins.bind(1, runId).bind(2, f.path).bind(3, f.blob).bind(4, f.size).exec();
        ins.reset();
    }
    tx.commit();
}

std::vector<RunFile> RunStore::files(std::int64_t runId) {
    auto db = m_db.reader();
    auto st = db->prepare("SELECT path, blob, size FROM run_files WHERE run_id = ? ORDER BY path");
    st.bind(1, runId);
    std::vector<RunFile> out;
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.int64(2)});
    return out;
}

} // namespace Kiln::Runs
