#include "ModelStore.h"

#include "datasets/DatasetStore.h"
#include "store/Database.h"
#include "store/Versions.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>

namespace Kiln::Models {

using Store::Statement;

static constexpr const char* kVersionColumns =
    "v.id, m.name, v.version, v.description, v.tags, v.framework, v.run_id, v.source_path, v.lineage, "
    "v.file_count, v.total_size, v.archived, v.created FROM model_versions v JOIN models m ON m.id = "
    "v.model_id ";

Json toJson(const ModelVersion& v) {
    return {{"name", v.name},
            {"version", v.version},
            {"description", v.description},
            {"tags", v.tags},
            {"framework", v.framework},
            {"run", v.runId ? Json(*v.runId) : Json(nullptr)},
            {"source_path", v.sourcePath},
            {"lineage", v.lineage},
            {"file_count", v.fileCount},
            {"total_size", v.totalSize},
            {"archived", v.archived},
            {"created", v.created}};
}

std::string detectFramework(const std::vector<ModelFile>& files) {
    auto any = [&](auto&& pred) {
        return std::any_of(files.begin(), files.end(), [&](const ModelFile& f) { return pred(f.path); });
    };
    auto named = [](const std::string& p, std::string_view n) {
        return p == n || p.ends_with("/" + std::string(n));
    };
    if (any([&](const std::string& p) { return named(p, "MLmodel"); }))
        return "mlflow";
    if (any([&](const std::string& p) { return named(p, "saved_model.pb"); }))
        return "tensorflow";
    if (any([](const std::string& p) { return p.ends_with(".keras") || p.ends_with(".h5"); }))
        return "keras";
    if (any([](const std::string& p) {
            return p.ends_with(".pt") || p.ends_with(".pth") || p.ends_with(".safetensors");
        }))
        return "pytorch";
    if (any([](const std::string& p) { return p.ends_with(".onnx"); }))
        return "onnx";
    if (any([](const std::string& p) { return p.ends_with(".joblib") || p.ends_with(".pkl"); }))
        return "scikit-learn";
    if (any([](const std::string& p) { return p.ends_with(".npz") || p.ends_with(".npy"); }))
        return "numpy";
    return {};
}

static ModelVersion read(const Statement& st) {
    ModelVersion v;
    v.id = st.int64(0);
    v.name = st.text(1);
    v.version = static_cast<int>(st.int64(2));
    v.description = st.text(3);
    v.tags = Json::parse(st.text(4));
    v.framework = st.text(5);
    v.runId = st.optInt64(6);
    v.sourcePath = st.text(7);
    v.lineage = Json::parse(st.text(8));
    v.fileCount = st.int64(9);
    v.totalSize = st.int64(10);
    v.archived = st.int64(11) != 0;
    v.created = st.real(12);
    return v;
}

ModelVersion ModelStore::registerVersion(NewModelVersion model) {
    if (!Datasets::isValidName(model.name))
        throw badRequest("model name must be 1-100 letters, digits, '.', '_' or '-', start with a letter or "
                         "digit, and not contain '..'");
    if (model.files.empty())
        throw badRequest("a model needs at least one file");
    std::sort(model.files.begin(), model.files.end(), [](auto& a, auto& b) { return a.path < b.path; });
    std::int64_t total = 0;
    for (const auto& f : model.files)
        total += f.size;
    const auto framework = detectFramework(model.files);

    auto lock = m_db.lock();
    Store::Database::Transaction tx(m_db);
    std::int64_t modelId = 0;
    int latest = 0;
    {
        auto find = m_db.prepare("SELECT m.id, COALESCE(MAX(v.version), 0) FROM models m LEFT JOIN "
                                 "model_versions v ON v.model_id = m.id WHERE m.name = ? GROUP BY m.id");
        find.bind(1, model.name);
        if (find.step()) {
            modelId = find.int64(0);
            latest = static_cast<int>(find.int64(1));
        }
    }
    if (!modelId) {
        m_db.prepare("INSERT INTO models(name, created) VALUES(?, ?)")
            .bind(1, model.name)
            .bind(2, Util::nowSeconds())
            .exec();
        modelId = m_db.lastInsertId();
    }
    m_db.prepare("INSERT INTO model_versions(model_id, version, description, tags, framework, run_id, "
                 "source_path, lineage, file_count, total_size, created) VALUES(?,?,?,?,?,?,?,?,?,?,?)")
        .bind(1, modelId)
        .bind(2, latest + 1)
        .bind(3, model.description)
        .bind(4, model.tags.dump())
        .bind(5, framework)
        .bind(6, model.runId)
        .bind(7, model.sourcePath)
        .bind(8, model.lineage.dump())
        .bind(9, static_cast<std::int64_t>(model.files.size()))
        .bind(10, total)
        .bind(11, Util::nowSeconds())
        .exec();
    const auto versionId = m_db.lastInsertId();
    auto insert = m_db.prepare("INSERT INTO model_files(version_id, path, blob, size) VALUES(?,?,?,?)");
    for (const auto& f : model.files) {
        insert.reset();
        insert.bind(1, versionId).bind(2, f.path).bind(3, f.blob).bind(4, f.size).exec();
    }
    auto back = m_db.prepare(std::string("SELECT ") + kVersionColumns + "WHERE v.id = ?");
    back.bind(1, versionId);
    back.step();
    auto out = read(back);
    tx.commit();
    return out;
}

Json ModelStore::list(const std::string& experiment) {
    auto lock = m_db.lock();
    // With an experiment: the models that have a version registered from one of its runs (through the run, so
    // a renamed experiment keeps its models), the most recently registered first.
    auto st = m_db.prepare(
        std::string(
            "SELECT m.name, MAX(v.version), COUNT(v.id), MAX(v.created), SUM(v.archived), "
            "(SELECT framework FROM model_versions WHERE model_id = m.id ORDER BY version DESC LIMIT 1) "
            "FROM models m JOIN model_versions v ON v.model_id = m.id ") +
        (experiment.empty()
             ? "GROUP BY m.id ORDER BY m.name"
             : "WHERE m.id IN (SELECT w.model_id FROM model_versions w JOIN runs r ON r.id = w.run_id "
               "JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?) "
               "GROUP BY m.id ORDER BY MAX(v.created) DESC"));
    if (!experiment.empty())
        st.bind(1, experiment);
    Json out = Json::array();
    while (st.step())
        out.push_back({{"name", st.text(0)},
                       {"latest_version", st.int64(1)},
                       {"versions", st.int64(2)},
                       {"updated", st.real(3)},
                       {"archived_versions", st.int64(4)},
                       {"framework", st.text(5)}});
    return out;
}

std::vector<ModelVersion> ModelStore::versions(const std::string& name) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string("SELECT ") + kVersionColumns + "WHERE m.name = ? ORDER BY v.version");
    st.bind(1, name);
    std::vector<ModelVersion> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

std::optional<ModelVersion> ModelStore::version(const std::string& name, int version) {
    return Store::versionOf(m_db, std::string("SELECT ") + kVersionColumns, "m.name",
                            "v.archived, v.version DESC", name, version,
                            [](const Statement& st) { return read(st); });
}

std::vector<ModelFile> ModelStore::files(std::int64_t versionId) {
    auto lock = m_db.lock();
    auto st = m_db.prepare("SELECT path, blob, size FROM model_files WHERE version_id = ? ORDER BY path");
    st.bind(1, versionId);
    std::vector<ModelFile> out;
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.int64(2)});
    return out;
}

ModelVersion ModelStore::update(const std::string& name, int version, const ModelUpdate& change) {
    auto current = this->version(name, version);
    if (!current || version <= 0)
        throw notFound("no such model version: " + name + ":" + std::to_string(version));
    auto lock = m_db.lock();
    m_db.prepare("UPDATE model_versions SET description = ?, tags = ?, archived = ? WHERE id = ?")
        .bind(1, change.description.value_or(current->description))
        .bind(2, change.tags.value_or(current->tags).dump())
        .bind(3, static_cast<std::int64_t>(change.archived.value_or(current->archived)))
        .bind(4, current->id)
        .exec();
    if (change.description)
        current->description = *change.description;
    if (change.tags)
        current->tags = *change.tags;
    if (change.archived)
        current->archived = *change.archived;
    return *current;
}

Json ModelStore::modelsOfRun(std::int64_t runId) {
    auto lock = m_db.lock();
    auto st =
        m_db.prepare("SELECT m.name, v.version FROM model_versions v JOIN models m ON m.id = v.model_id "
                     "WHERE v.run_id = ? ORDER BY v.id");
    st.bind(1, runId);
    Json out = Json::array();
    while (st.step())
        out.push_back({{"name", st.text(0)}, {"version", st.int64(1)}});
    return out;
}

} // namespace Kiln::Models
