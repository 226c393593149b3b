#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace Kiln::Store {
class BlobStore;
}

namespace Kiln::Datasets {

struct FetchResult {
    std::string sha256;
    std::uint64_t size = 0;
};

// Downloads an http(s) URL into the blob store, hashing as it streams. Retries transient failures
// (connection errors, 5xx, 408/429, a body shorter than announced) with backoff; fails at once on other
// 4xx. Verifies the announced size, and the SHA-256 when one is expected (argument, or `#sha256=` in the
// URL). `progress(bytes, total)` may return false to cancel. Throws UserError with a message naming the URL.
FetchResult fetchUrl(const std::string& url, const std::string& expectedSha256, Store::BlobStore& blobs,
                     const std::function<bool(std::uint64_t, std::uint64_t)>& progress, int attempts = 4);

} // namespace Kiln::Datasets
