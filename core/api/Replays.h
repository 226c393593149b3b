#pragma once
#include "api/Http.h"

#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace Kiln::Store {
class Database;
}

namespace Kiln::Api {

// The answers kept for requests that carried an `Idempotency-Key` header, for a day (table `replays`): a
// client that lost the answer to a create (the connection reset after kilnd acted) sends the request again
// with the same key and gets the same answer, not a second run, version or dataset. Keys are the caller's
// own (a run token's keys are not the workspace's). Only successful answers are kept; a failed request may
// be tried again. Thread-safe.
class Replays final {
public:
    static constexpr std::size_t kMaxKey = 200;
    static constexpr double kKeepSeconds = 24 * 3600;

    explicit Replays(Store::Database& db);

    enum class Found { No, Replay, InFlight, OtherRequest };
    // What to do with a request under `key` (already scoped to its caller): answer it (No: it is now in
    // flight until kept() or dropped()), replay `answer`, answer 409 (the first one is still being
    // answered), or 422 (the key was used for another method or path).
    Found begin(const std::string& key, const std::string& method, const std::string& path, Response& answer);
    // The first request's answer: kept when it succeeded; the key is free again either way.
    void finish(const std::string& key, const std::string& method, const std::string& path,
                const Response& answer);

private:
    Store::Database& m_db;
    std::mutex m_mutex;
    std::set<std::string> m_inFlight;
    unsigned m_sincePurge = 0;
};

} // namespace Kiln::Api
