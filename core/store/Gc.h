#pragma once
#include <chrono>
#include <cstdint>
#include <set>
#include <string>

namespace Kiln::Store {

class Database;
class BlobStore;

struct GcResult {
    std::int64_t removed = 0;    // blobs removed
    std::int64_t bytesFreed = 0; // their size, and leftover temporary files'
    std::int64_t kept = 0;       // blobs something refers to
    std::int64_t tooYoung = 0;   // unreferenced but within the grace period (maybe about to be referred to)
};

// Removes the blobs that nothing in the workspace refers to: no run file, dataset file, model file or
// snapshot manifest. A blob changed or reported present less than `grace` ago is kept (a client may have
// uploaded it for a submit or registration it has not sent yet); so are temporary files younger than that.
// With `only`, looks at those blobs alone (what a failed registration wrote).
GcResult collectGarbage(Database& db, const BlobStore& blobs, std::chrono::seconds grace,
                        const std::set<std::string>* only = nullptr);

} // namespace Kiln::Store
