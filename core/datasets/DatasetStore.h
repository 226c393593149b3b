#pragma once
#include "util/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Datasets {

struct DatasetFile {
    std::string path; // registered name, relative ("train-images-idx3-ubyte.gz", "images/1.png")
    std::string blob; // SHA-256 of the content, in the workspace blob store
    std::int64_t size = 0;
    std::string source; // where it came from (a local path or a URL), for the record
};

struct DatasetVersion {
    std::int64_t id = 0;
    std::string name;
    int version = 0;
    std::string description;
    Json tags = Json::object();
    std::string contentHash;
    std::int64_t fileCount = 0;
    std::int64_t totalSize = 0;
    double created = 0;
};

Json toJson(const DatasetVersion& v);
// The hash that identifies a version's content: SHA-256 over its sorted (path, blob) pairs.
std::string contentHash(std::vector<DatasetFile>& files);
// Dataset names: 1-100 of [A-Za-z0-9._-], starting with a letter or digit, without "..".
bool isValidName(const std::string& name);

struct RegisterResult {
    DatasetVersion version;
    bool created = false; // false: identical content was already registered as `version`
};

// Datasets in the workspace database: named, versioned sets of files whose content is in the blob store.
class DatasetStore final {
public:
    explicit DatasetStore(Store::Database& db)
        : m_db(db) {}

    // Registers `files` under `name`: version 1 of a new dataset; for an existing one, nothing new when the
    // content equals an existing version, else version N+1 if `newVersion`, else a 409 UserError.
    RegisterResult registerVersion(const std::string& name, const std::string& description, const Json& tags,
                                   std::vector<DatasetFile> files, bool newVersion);
    Json list();
    std::vector<DatasetVersion> versions(const std::string& name);
    // `version` 0 means the latest.
    std::optional<DatasetVersion> version(const std::string& name, int version);
    std::vector<DatasetFile> files(std::int64_t versionId);
    void recordUse(std::int64_t runId, std::int64_t versionId, const std::string& mode,
                   const std::string& path);
    Json runsUsing(std::int64_t versionId);
    Json datasetsOfRun(std::int64_t runId);

private:
    Store::Database& m_db;
};

} // namespace Kiln::Datasets
