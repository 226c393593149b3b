#include "DatasetStore.h"

#include "store/Database.h"
#include "store/Versions.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>
#include <cctype>

namespace Kiln::Datasets {

using Store::Statement;

static constexpr const char* kVersionColumns =
    "v.id, d.name, v.version, v.description, v.tags, v.content_hash, v.file_count, v.total_size, v.created "
    "FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id ";

Json toJson(const DatasetVersion& v) {
    return {{"name", v.name},
            {"version", v.version},
            {"description", v.description},
            {"tags", v.tags},
            {"content_hash", v.contentHash},
            {"file_count", v.fileCount},
            {"total_size", v.totalSize},
            {"created", v.created}};
}

std::string contentHash(std::vector<DatasetFile>& files) {
    std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.path < b.path; });
    Util::Sha256 h;
    for (const auto& f : files) {
        h.update(f.path.data(), f.path.size());
        h.update("\0", 1);
        h.update(f.blob.data(), f.blob.size());
        h.update("\n", 1);
    }
    return h.finishHex();
}

bool isValidName(const std::string& name) {
    if (name.empty() || name.size() > 100 || name.find("..") != std::string::npos)
        return false;
    if (!std::isalnum(static_cast<unsigned char>(name[0])))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; });
}

static DatasetVersion read(const Statement& st) {
    DatasetVersion v;
    v.id = st.int64(0);
    v.name = st.text(1);
    v.version = static_cast<int>(st.int64(2));
    v.description = st.text(3);
    v.tags = Json::parse(st.text(4));
    v.contentHash = st.text(5);
    v.fileCount = st.int64(6);
    v.totalSize = st.int64(7);
    v.created = st.real(8);
    return v;
}

RegisterResult DatasetStore::registerVersion(const std::string& name, const std::string& description,
                                             const Json& tags, std::vector<DatasetFile> files,
                                             bool newVersion) {
    if (!isValidName(name))
        throw badRequest(
            "dataset name must be 1-100 letters, digits, '.', '_' or '-', start with a letter or "
            "digit, and not contain '..'");
    if (files.empty())
        throw badRequest("a dataset needs at least one file");
    const auto hash = contentHash(files);
    std::int64_t total = 0;
    for (const auto& f : files)
        total += f.size;

    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    std::int64_t datasetId = 0;
    int latest = 0;
    {
        auto find = m_db.prepare(
            "SELECT d.id, COALESCE(MAX(v.version), 0) FROM datasets d LEFT JOIN dataset_versions v "
            "ON v.dataset_id = d.id WHERE d.name = ? GROUP BY d.id");
        find.bind(1, name);
        if (find.step()) {
            datasetId = find.int64(0);
            latest = static_cast<int>(find.int64(1));
        }
    }
    if (datasetId) {
        auto same = m_db.prepare(std::string("SELECT ") + kVersionColumns +
                                 "WHERE d.id = ? AND v.content_hash = ? ORDER BY v.version DESC LIMIT 1");
        same.bind(1, datasetId).bind(2, hash);
        if (same.step())
            return {read(same), false};
        if (!newVersion)
            throw conflict("dataset '" + name + "' already exists (version " + std::to_string(latest) +
                           ") with other content; register with --new-version to make version " +
                           std::to_string(latest + 1));
    } else {
        m_db.prepare("INSERT INTO datasets(name, created) VALUES(?, ?)")
            .bind(1, name)
            .bind(2, Util::nowSeconds())
            .exec();
        datasetId = m_db.lastInsertId();
    }
    m_db.prepare(
            "INSERT INTO dataset_versions(dataset_id, version, description, tags, content_hash, file_count, "
            "total_size, created) VALUES(?,?,?,?,?,?,?,?)")
        .bind(1, datasetId)
        .bind(2, latest + 1)
        .bind(3, description)
        .bind(4, tags.dump())
        .bind(5, hash)
        .bind(6, static_cast<std::int64_t>(files.size()))
        .bind(7, total)
        .bind(8, Util::nowSeconds())
        .exec();
    const auto versionId = m_db.lastInsertId();
    auto ins =
        m_db.prepare("INSERT INTO dataset_files(version_id, path, blob, size, source) VALUES(?,?,?,?,?)");
    for (const auto& f : files) {
        ins.bind(1, versionId).bind(2, f.path).bind(3, f.blob).bind(4, f.size).bind(5, f.source).exec();
        ins.reset();
    }
    auto created = m_db.prepare(std::string("SELECT ") + kVersionColumns + "WHERE v.id = ?");
    created.bind(1, versionId).step();
    auto result = read(created);
    created.reset();
    tx.commit();
    return {result, true};
}

Json DatasetStore::list() {
    auto lock = m_db.lock();
    auto st = m_db.prepare(
        std::string("SELECT ") + kVersionColumns +
        "WHERE v.version = (SELECT MAX(version) FROM dataset_versions w WHERE w.dataset_id = d.id) "
        "ORDER BY d.name");
    Json out = Json::array();
    while (st.step()) {
        auto j = toJson(read(st));
        j["latest_version"] = j["version"];
        out.push_back(std::move(j));
    }
    return out;
}

std::vector<DatasetVersion> DatasetStore::versions(const std::string& name) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string("SELECT ") + kVersionColumns + "WHERE d.name = ? ORDER BY v.version");
    st.bind(1, name);
    std::vector<DatasetVersion> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

std::optional<DatasetVersion> DatasetStore::version(const std::string& name, int version) {
    return Store::versionOf(m_db, std::string("SELECT ") + kVersionColumns, "d.name", "v.version DESC", name,
                            version, [](const Statement& st) { return read(st); });
}

std::vector<DatasetFile> DatasetStore::files(std::int64_t versionId) {
    auto lock = m_db.lock();
    auto st =
        m_db.prepare("SELECT path, blob, size, source FROM dataset_files WHERE version_id = ? ORDER BY path");
    st.bind(1, versionId);
    std::vector<DatasetFile> out;
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.int64(2), st.text(3)});
    return out;
}

void DatasetStore::recordUse(std::int64_t runId, std::int64_t versionId, const std::string& mode,
                             const std::string& path) {
    auto lock = m_db.lock();
    m_db.prepare("INSERT OR REPLACE INTO run_datasets(run_id, version_id, mode, path) VALUES(?,?,?,?)")
        .bind(1, runId)
        .bind(2, versionId)
        .bind(3, mode)
        .bind(4, path)
        .exec();
}

Json DatasetStore::runsUsing(std::int64_t versionId) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(
        "SELECT r.id, r.name, r.status, u.mode FROM run_datasets u JOIN runs r ON r.id = u.run_id "
        "WHERE u.version_id = ? ORDER BY r.id DESC");
    st.bind(1, versionId);
    Json out = Json::array();
    while (st.step())
        out.push_back(
            {{"id", st.int64(0)}, {"name", st.text(1)}, {"status", st.text(2)}, {"mode", st.text(3)}});
    return out;
}

Json DatasetStore::datasetsOfRun(std::int64_t runId) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(
        "SELECT d.name, v.version, u.mode, u.path FROM run_datasets u JOIN dataset_versions v ON "
        "v.id = u.version_id JOIN datasets d ON d.id = v.dataset_id WHERE u.run_id = ? ORDER BY d.name");
    st.bind(1, runId);
    Json out = Json::array();
    while (st.step())
        out.push_back(
            {{"name", st.text(0)}, {"version", st.int64(1)}, {"mode", st.text(2)}, {"path", st.text(3)}});
    return out;
}

} // namespace Kiln::Datasets
