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

// Lays a version's files out under `dest` by their registered names. Mount mode (readOnly): files and
// folders read-only, and the run gets the folder as a read-only bind mount. The files are hard links to
// the blob store only when `linkBlobs` says that mount is certain (a mount namespace is available): a link
// without the mount would let a script chmod and overwrite the stored copy every version shares. Else they
// are copies (reflinks where the file system can). Download mode: a private, writable copy.
void materialize(const std::vector<DatasetFile>& files, const Store::BlobStore& blobs,
                 const std::filesystem::path& dest, bool readOnly, bool linkBlobs);

} // namespace Kiln::Datasets
