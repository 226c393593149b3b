#pragma once
#include "util/Json.h"

#include <functional>
#include <string>
#include <vector>

namespace Kiln::Store {
class BlobStore;
}
namespace Kiln::Server {
class Jobs;
}

namespace Kiln::Datasets {

class DatasetStore;

// One thing to register: a local file or folder (absolute path, read by kilnd) or an http(s) URL.
struct Source {
    std::string path;
    std::string url;
    std::string sha256; // expected hash of a URL's content, optional
    std::string name;   // registered file name for a URL (default: the URL's last path segment)
};

struct RegisterRequest {
    std::string name;
    std::string description;
    Json tags = Json::object();
    bool newVersion = false;
    std::vector<Source> sources;
};

// Validates a POST /api/v1/datasets body; throws UserError.
RegisterRequest parseRegisterRequest(const Json& body);

struct Reporter {
    std::function<void(const Json& progress)> progress; // called at most ~10 times a second
    std::function<bool()> canceled;
};

// Stores every source's files in the blob store (hashing as it copies or downloads, with progress and
// cancel), then registers them as one version. All or nothing: a failure registers nothing.
// Returns {"dataset": version, "created": bool, "message": "..."}.
Json registerDataset(const RegisterRequest& request, Store::BlobStore& blobs, DatasetStore& store,
                     const Reporter& reporter);

} // namespace Kiln::Datasets
