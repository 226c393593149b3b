#include "EnvironmentStore.h"

#include "store/Database.h"
#include "store/Versions.h"
#include "util/Error.h"
#include "util/Fs.h"

namespace Kiln::Environments {

using Store::Statement;

static constexpr const char* kColumns =
    "v.id, e.name, v.version, v.spec, v.spec_hash, v.created FROM environment_versions v "
    "JOIN environments e ON e.id = v.environment_id ";

static EnvironmentVersion read(const Statement& st) {
    EnvironmentVersion v;
    v.id = st.int64(0);
    v.name = st.text(1);
    v.version = static_cast<int>(st.int64(2));
    v.spec = Spec::fromJson(Json::parse(st.text(3)));
    v.specHash = st.text(4);
    v.created = st.real(5);
    return v;
}

Json toJson(const EnvironmentVersion& v) {
    return {{"name", v.name},
            {"version", v.version},
            {"spec", v.spec.toJson()},
            {"spec_hash", v.specHash},
            {"created", v.created}};
}

std::pair<EnvironmentVersion, bool> EnvironmentStore::create(const std::string& name, const Spec& spec) {
    if (!isValidEnvironmentName(name))
        throw badRequest(
            "environment name must be 1-100 letters, digits, '.', '_' or '-', start with a letter or digit, "
            "and not contain '..'");
    const auto specJson = spec.toJson().dump();
    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    std::int64_t envId = 0;
    {
        auto find = m_db.prepare("SELECT id FROM environments WHERE name = ?");
        find.bind(1, name);
        if (find.step())
            envId = find.int64(0);
    }
    if (envId) {
        auto latest = m_db.prepare(std::string("SELECT ") + kColumns +
                                   "WHERE e.id = ? ORDER BY v.version DESC LIMIT 1");
        latest.bind(1, envId);
        if (latest.step() && latest.text(3) == specJson)
            return {read(latest), false};
    } else {
        m_db.prepare("INSERT INTO environments(name, created) VALUES(?, ?)")
            .bind(1, name)
            .bind(2, Util::nowSeconds())
            .exec();
        envId = m_db.lastInsertId();
    }
    m_db.prepare(
            "INSERT INTO environment_versions(environment_id, version, spec, spec_hash, created) VALUES(?, "
            "(SELECT COALESCE(MAX(version), 0) + 1 FROM environment_versions WHERE environment_id = ?1), ?, "
            "?, ?)")
        .bind(1, envId)
        .bind(2, specJson)
        .bind(3, spec.hash())
        .bind(4, Util::nowSeconds())
        .exec();
    auto created = m_db.prepare(std::string("SELECT ") + kColumns + "WHERE v.id = ?");
    created.bind(1, m_db.lastInsertId()).step();
    auto v = read(created);
    created.reset();
    tx.commit();
    return {v, true};
}

Json EnvironmentStore::list() {
    auto lock = m_db.lock();
    auto st = m_db.prepare(
        std::string("SELECT ") + kColumns +
        "WHERE v.version = (SELECT MAX(version) FROM environment_versions w WHERE w.environment_id = "
        "e.id) ORDER BY e.name");
    Json out = Json::array();
    while (st.step())
        out.push_back(toJson(read(st)));
    return out;
}

std::vector<EnvironmentVersion> EnvironmentStore::versions(const std::string& name) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string("SELECT ") + kColumns + "WHERE e.name = ? ORDER BY v.version");
    st.bind(1, name);
    std::vector<EnvironmentVersion> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

std::optional<EnvironmentVersion> EnvironmentStore::version(const std::string& name, int version) {
    return Store::versionOf(m_db, std::string("SELECT ") + kColumns, "e.name", "v.version DESC", name,
                            version, [](const Statement& st) { return read(st); });
}

std::optional<EnvironmentVersion> EnvironmentStore::byId(std::int64_t id) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string("SELECT ") + kColumns + "WHERE v.id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return read(st);
}

void EnvironmentStore::setRunEnvironment(std::int64_t runId, std::int64_t versionId) {
    auto lock = m_db.lock();
    m_db.prepare("INSERT OR REPLACE INTO run_environments(run_id, version_id) VALUES(?, ?)")
        .bind(1, runId)
        .bind(2, versionId)
        .exec();
}

std::optional<EnvironmentVersion> EnvironmentStore::ofRun(std::int64_t runId) {
    std::int64_t versionId = 0;
    {
        auto lock = m_db.lock();
        auto st = m_db.prepare("SELECT version_id FROM run_environments WHERE run_id = ?");
        st.bind(1, runId);
        if (!st.step())
            return std::nullopt;
        versionId = st.int64(0);
    }
    return byId(versionId);
}

Json EnvironmentStore::runsUsing(std::int64_t versionId) {
    auto lock = m_db.lock();
    auto st =
        m_db.prepare("SELECT r.id, r.name, r.status FROM run_environments u JOIN runs r ON r.id = u.run_id "
                     "WHERE u.version_id = ? ORDER BY r.id DESC");
    st.bind(1, versionId);
    Json out = Json::array();
    while (st.step())
        out.push_back({{"id", st.int64(0)}, {"name", st.text(1)}, {"status", st.text(2)}});
    return out;
}

} // namespace Kiln::Environments
