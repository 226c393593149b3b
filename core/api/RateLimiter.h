#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace Kiln::Api {

// Metric points per run per second, as a token bucket holding one second's worth: a run may log in bursts,
// but on average no faster than `pointsPerSecond`. A batch that does not fit is refused whole (429) with the
// seconds to wait; the client sends it again then, so nothing is dropped. 0 disables the limit.
class RateLimiter final {
public:
    using Clock = std::chrono::steady_clock;
    explicit RateLimiter(double pointsPerSecond)
        : m_rate(pointsPerSecond) {}

    // 0 when `points` may be stored now (and they are counted), else the whole seconds to wait (>= 1).
    int admit(std::int64_t run, std::size_t points, Clock::time_point now = Clock::now());
    std::int64_t refusals(std::int64_t run) const;
    double rate() const { return m_rate; }

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point last{};
        std::int64_t refusals = 0;
    };
    double m_rate;
    mutable std::mutex m_mutex;
    std::unordered_map<std::int64_t, Bucket> m_buckets;
};

} // namespace Kiln::Api
