#pragma once
#include "util/Json.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace Kiln::Store {
class BlobStore;
}

namespace Kiln::Runs {

// A run's source folder frozen at submit: every file by relative path and SHA-256. The snapshot's own id is
// the hash of its canonical manifest, so the same folder content always gives the same snapshot.
struct SnapshotEntry {
    std::string path;
    std::string sha256;
    std::uint64_t size = 0;
    bool executable = false;
    std::filesystem::path source; // where the client read it; not part of the manifest
};

struct Snapshot {
    std::vector<SnapshotEntry> files;

    // Walks `folder`, hashing every regular file; skips .git, __pycache__, .kiln, outputs/ and logs/.
    static Snapshot scan(const std::filesystem::path& folder);
    static Snapshot fromManifest(const Json& manifest); // validates paths and hashes; throws UserError
    Json manifest() const;
    std::string hash() const;
    std::uint64_t totalSize() const;
    bool contains(const std::string& path) const;
    // Writes every file from the blob store into `dest`.
    void materialize(const Store::BlobStore& blobs, const std::filesystem::path& dest) const;
};

} // namespace Kiln::Runs
