#include "Reduce.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace Kiln::Metrics {

std::vector<XY> reduceMinMax(std::span<const double> xs, std::span<const double> ys, double xMin, double xMax,
                             int columns) {
    std::vector<XY> out;
    const std::size_t n = std::min(xs.size(), ys.size());
    if (n == 0 || columns <= 0 || !(xMax >= xMin))
        return out;
    std::size_t begin =
        static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.begin() + n, xMin) - xs.begin());
    std::size_t end =
        static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.begin() + n, xMax) - xs.begin());
    if (begin > 0)
        --begin; // one point left of the range
    if (end < n)
        ++end; // one point right of the range
    if (end - begin <= static_cast<std::size_t>(columns) * 4) {
        out.reserve(end - begin);
        for (std::size_t i = begin; i < end; ++i)
            out.push_back({xs[i], ys[i]});
        return out;
    }
    out.reserve(static_cast<std::size_t>(columns) * 4 + 2);
    const double width = xMax > xMin ? (xMax - xMin) / columns : 1.0;
    auto bucketOf = [&](double x) -> long {
        if (x < xMin)
            return -1;
        if (x > xMax)
            return columns;
        return std::min<long>(columns - 1, static_cast<long>((x - xMin) / width));
    };
    std::size_t i = begin;
    while (i < end) {
        const long bucket = bucketOf(xs[i]);
        std::size_t first = i, minI = i, maxI = i, last = i;
        for (++i; i < end && bucketOf(xs[i]) == bucket; ++i) {
            // NaN never becomes an extreme; comparisons with it are false.
            if (ys[i] < ys[minI] || std::isnan(ys[minI]))
                minI = i;
            if (ys[i] > ys[maxI] || std::isnan(ys[maxI]))
                maxI = i;
            last = i;
        }
        std::array<std::size_t, 4> idx = {first, minI, maxI, last};
        std::sort(idx.begin(), idx.end());
        std::size_t prev = static_cast<std::size_t>(-1);
        for (auto k : idx) {
            if (k != prev)
                out.push_back({xs[k], ys[k]});
            prev = k;
        }
    }
    return out;
}

} // namespace Kiln::Metrics
