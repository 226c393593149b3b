#include "SweepStore.h"

#include "store/Database.h"
#include "util/Fs.h"

namespace Kiln::Sweeps {

static constexpr const char* kColumns =
    "SELECT id, experiment, spec, status, error, cancel_by, created, ended FROM sweeps ";

static SweepRecord read(const Store::Statement& st) {
    SweepRecord s;
    s.id = st.int64(0);
    s.experiment = st.text(1);
    s.spec = Json::parse(st.text(2));
    s.status = st.text(3);
    s.error = st.text(4);
    s.cancelBy = st.text(5);
    s.created = st.real(6);
    s.ended = st.optReal(7);
    return s;
}

std::int64_t SweepStore::create(const std::string& experiment, const Json& spec) {
    auto lock = m_db.lock();
    m_db.prepare("INSERT INTO sweeps(experiment, spec, status, created) VALUES(?, ?, 'Running', ?)")
        .bind(1, experiment)
        .bind(2, spec.dump())
        .bind(3, Util::nowSeconds())
        .exec();
    return m_db.lastInsertId();
}

std::optional<SweepRecord> SweepStore::get(std::int64_t id) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string(kColumns) + "WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read(st);
}

std::vector<SweepRecord> SweepStore::list(std::int64_t limit, std::int64_t offset) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string(kColumns) + "ORDER BY id DESC LIMIT ? OFFSET ?");
    st.bind(1, limit).bind(2, offset);
    std::vector<SweepRecord> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

bool SweepStore::finish(std::int64_t id, const std::string& status, const std::string& error,
                        const std::string& cancelBy) {
    auto lock = m_db.lock();
    m_db.prepare(
            "UPDATE sweeps SET status = ?, error = ?, cancel_by = ?, ended = ? WHERE id = ? AND status = "
            "'Running'")
        .bind(1, status)
        .bind(2, error)
        .bind(3, cancelBy)
        .bind(4, Util::nowSeconds())
        .bind(5, id)
        .exec();
    return m_db.changes() > 0;
}

std::vector<std::int64_t> SweepStore::unsettled() {
    auto lock = m_db.lock();
    auto st = m_db.prepare(
        "SELECT id FROM sweeps WHERE status = 'Running' UNION SELECT DISTINCT sweep_id FROM runs "
        "WHERE sweep_id IS NOT NULL AND status NOT IN ('Completed', 'Failed', 'Canceled')");
    std::vector<std::int64_t> out;
    while (st.step())
        out.push_back(st.int64(0));
    return out;
}

} // namespace Kiln::Sweeps
