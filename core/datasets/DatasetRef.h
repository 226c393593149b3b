#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace Kiln::Store {
class BlobStore;
}

namespace Kiln::Datasets {

struct DatasetFile;

// A reference to a dataset inside a run argument: {dataset:NAME}, {dataset:NAME:VERSION},
// {dataset:NAME:download} or {dataset:NAME:VERSION:download} (mode `mount`, the default, or `download`).
struct DatasetRef {
    std::string name;
    int version = 0; // 0: the latest
    std::string mode = "mount";
    std::size_t pos = 0; // where the reference sits in the argument
    std::size_t length = 0;
};

// Every reference in `argument`; throws UserError for a malformed one ("{dataset:" without a valid end).
std::vector<DatasetRef> findDatasetRefs(const std::string& argument);

// Lays a version's files out under `dest` by their registered names. Mount mode: hard links to the
// blob store's read-only files (a copy where linking is impossible) in folders made read-only; the run
// additionally gets the folder as a read-only bind mount where the system allows. Download mode: a
// private, writable copy.
void materialize(const std::vector<DatasetFile>& files, const Store::BlobStore& blobs,
                 const std::filesystem::path& dest, bool readOnly);

} // namespace Kiln::Datasets
