#pragma once
#include "util/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Models {

struct ModelFile {
    std::string path; // relative to the model's root ("saved_model.pb", "variables/variables.index")
    std::string blob; // SHA-256 of the content, in the workspace blob store (shared with the run's files)
    std::int64_t size = 0;
};

struct ModelVersion {
    std::int64_t id = 0;
    std::string name;
    int version = 0;
    std::string description;
    Json tags = Json::object();
    std::string framework; // "keras", "pytorch", "onnx"... or "" when the files do not say
    std::optional<std::int64_t> runId;
    std::string sourcePath;        // the run path it was registered from ("outputs/model")
    Json lineage = Json::object(); // run, experiment, datasets, environment, snapshot, final metrics
    std::int64_t fileCount = 0;
    std::int64_t totalSize = 0;
    bool archived = false;
    double created = 0;
};

struct NewModelVersion {
    std::string name;
    std::string description;
    Json tags = Json::object();
    std::optional<std::int64_t> runId;
    std::string sourcePath;
    Json lineage = Json::object();
    std::vector<ModelFile> files;
};

struct ModelUpdate {
    std::optional<std::string> description;
    std::optional<Json> tags;
    std::optional<bool> archived;
};

Json toJson(const ModelVersion& v);
// The framework a model's files were written by, guessed from their names ("" when unknown).
std::string detectFramework(const std::vector<ModelFile>& files);
// A run's files under `path`: every file below the folder `path`, relative to it, or the one file `path`
// under its own name. Empty when nothing matches.
template <typename RunFileT>
std::vector<ModelFile> selectFiles(const std::vector<RunFileT>& runFiles, const std::string& path) {
    std::vector<ModelFile> out;
    const std::string prefix = path + "/";
    for (const auto& f : runFiles) {
        if (f.path == path)
            return {{f.path.substr(f.path.rfind('/') + 1), f.blob, f.size}};
        if (f.path.starts_with(prefix))
            out.push_back({f.path.substr(prefix.size()), f.blob, f.size});
    }
    return out;
}

// Registered models in the workspace database: named, versioned sets of files whose bytes are the run's
// own blobs, each version with the lineage it had when registered.
class ModelStore final {
public:
    explicit ModelStore(Store::Database& db)
        : m_db(db) {}

    // Adds version N+1 of `name` (1 for a new model).
    ModelVersion registerVersion(NewModelVersion model);
    // One row per model: name, latest version, version count, last update. With `experiment`: only the models
    // registered from its runs, the most recent first.
    Json list(const std::string& experiment = {});
    std::vector<ModelVersion> versions(const std::string& name);
    // `version` 0 means the latest version that is not archived (or the latest, if all are).
    std::optional<ModelVersion> version(const std::string& name, int version);
    std::vector<ModelFile> files(std::int64_t versionId);
    ModelVersion update(const std::string& name, int version, const ModelUpdate& change);
    // [{name, version}] registered from a run.
    Json modelsOfRun(std::int64_t runId);

private:
    Store::Database& m_db;
};

} // namespace Kiln::Models
