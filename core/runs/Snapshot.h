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
    std::string sha256; // empty for a link
    std::uint64_t size = 0;
    bool executable = false;
    std::string link;             // a link inside the folder: its target, relative to its own folder
    std::filesystem::path source; // where the client read it; not part of the manifest
};

struct Snapshot {
    std::vector<SnapshotEntry> files;
    std::vector<std::string> warnings; // for the user (links skipped, a large folder); not in the manifest

    // Walks `folder` like a version-control tool (Util::scanFolder: .kilnignore/.amlignore/.gitignore;
    // .git, .venv, __pycache__, .kiln skipped; top-level outputs/ and logs/ skipped; links inside kept as
    // links, links out skipped with a warning) and hashes every file.
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
