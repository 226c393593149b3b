#include "RateLimiter.h"

#include <algorithm>
#include <cmath>

namespace Kiln::Api {

int RateLimiter::admit(std::int64_t run, std::size_t points, Clock::time_point now) {
    if (m_rate <= 0)
        return 0;
    std::lock_guard g(m_mutex);
    auto [it, fresh] = m_buckets.try_emplace(run);
    Bucket& b = it->second;
    if (fresh) {
        b.tokens = m_rate;
        b.last = now;
    }
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(m_rate, b.tokens + elapsed * m_rate);
    b.last = now;
    const double need = static_cast<double>(points);
    // A batch bigger than a second's worth goes through once the bucket is full, leaving it in debt.
    if (need <= b.tokens || b.tokens >= m_rate) {
        b.tokens -= need;
        return 0;
    }
    ++b.refusals;
    return std::max(1, static_cast<int>(std::ceil((std::min(need, m_rate) - b.tokens) / m_rate)));
}

std::int64_t RateLimiter::refusals(std::int64_t run) const {
    std::lock_guard g(m_mutex);
    auto it = m_buckets.find(run);
    return it == m_buckets.end() ? 0 : it->second.refusals;
}

} // namespace Kiln::Api
