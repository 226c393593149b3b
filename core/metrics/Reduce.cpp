#include "Reduce.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

namespace Kiln::Metrics {

namespace {

// Updates running extremes with ys[k]; NaN never becomes an extreme (comparisons with it are false).
inline void consider(std::span<const double> ys, std::size_t k, std::size_t& minI, std::size_t& maxI) {
    if (ys[k] < ys[minI] || std::isnan(ys[minI]))
        minI = k;
    if (ys[k] > ys[maxI] || std::isnan(ys[maxI]))
        maxI = k;
}

} // namespace

void BlockIndex::extend(std::span<const double> ys) {
    const std::size_t complete = ys.size() / kBlock;
    for (std::size_t b = m_min.size(); b < complete; ++b) {
        std::size_t minI = b * kBlock, maxI = minI;
        for (std::size_t k = minI + 1; k < (b + 1) * kBlock; ++k)
            consider(ys, k, minI, maxI);
        m_min.push_back(minI);
        m_max.push_back(maxI);
        m_minValue.push_back(ys[minI]);
        m_maxValue.push_back(ys[maxI]);
    }
}

void BlockIndex::clear() {
    m_min.clear();
    m_max.clear();
    m_minValue.clear();
    m_maxValue.clear();
}

std::pair<std::size_t, std::size_t> BlockIndex::minMax(std::span<const double> ys, std::size_t a,
                                                       std::size_t b) const {
    std::size_t minI = a, maxI = a;
    std::size_t k = a + 1;
    const std::size_t firstBlock = (a + kBlock - 1) / kBlock, endBlock = std::min(b / kBlock, m_min.size());
    if (firstBlock < endBlock) {
        for (; k < firstBlock * kBlock; ++k)
            consider(ys, k, minI, maxI);
        double minV = ys[minI], maxV = ys[maxI];
        for (std::size_t blk = firstBlock; blk < endBlock; ++blk) {
            if (m_minValue[blk] < minV || std::isnan(minV))
                minV = m_minValue[blk], minI = m_min[blk];
            if (m_maxValue[blk] > maxV || std::isnan(maxV))
                maxV = m_maxValue[blk], maxI = m_max[blk];
        }
        k = std::max(k, endBlock * kBlock);
    }
    for (; k < b; ++k)
        consider(ys, k, minI, maxI);
    return {minI, maxI};
}

std::vector<XY> reduceMinMax(std::span<const double> xs, std::span<const double> ys, double xMin, double xMax,
                             int columns, const BlockIndex* index) {
    std::vector<XY> out;
    const std::size_t n = std::min(xs.size(), ys.size());
    if (n == 0 || columns <= 0 || !(xMax >= xMin))
        return out;
    xs = xs.first(n);
    ys = ys.first(n);
    std::size_t begin = static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.end(), xMin) - xs.begin());
    std::size_t end = static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), xMax) - xs.begin());
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
    const Buckets buckets(xMin, xMax, columns);
    const double width = buckets.width;
    auto bucketOf = [&](double x) { return buckets.of(x); };
    std::size_t i = begin;
    while (i < end) {
        // The column's points are [i, j): found by binary search, since buckets rise with x.
        const long bucket = bucketOf(xs[i]);
        // Where the column ends: guessed by interpolation (steps are usually evenly spaced), then found
        // exactly by galloping from the guess and bisecting. Every probe of a big series is a cache miss,
        // so few probes matter more than anything else here.
        auto inBucket = [&](double x) { return bucketOf(x) <= bucket; };
        const double boundary = xMin + static_cast<double>(bucket + 1) * width;
        const double perPoint = (xs[end - 1] - xs[i]) / static_cast<double>(end - 1 - i);
        std::size_t guess = end - 1;
        if (bucket >= 0 && bucket < columns && perPoint > 0) {
            const double ahead = (boundary - xs[i]) / perPoint;
            guess =
                i + 1 + static_cast<std::size_t>(std::clamp(ahead, 0.0, static_cast<double>(end - 2 - i)));
        }
        std::size_t lo = i, hi = end, step = 1;
        if (inBucket(xs[guess])) {
            lo = guess;
            while (lo + step < end && inBucket(xs[lo + step]))
                lo += step, step *= 2;
            hi = std::min(end, lo + step);
        } else {
            hi = guess;
            while (step < hi - i && !inBucket(xs[hi - step]))
                hi -= step, step *= 2;
            lo = step < hi - i ? hi - step : i;
        }
        const auto j =
            static_cast<std::size_t>(std::partition_point(xs.begin() + static_cast<long>(lo),
                                                          xs.begin() + static_cast<long>(hi), inBucket) -
                                     xs.begin());
        std::size_t minI = i, maxI = i;
        if (index) {
            std::tie(minI, maxI) = index->minMax(ys, i, j);
        } else {
            for (std::size_t k = i + 1; k < j; ++k)
                consider(ys, k, minI, maxI);
        }
        std::array<std::size_t, 4> idx = {i, minI, maxI, j - 1};
        std::sort(idx.begin(), idx.end());
        std::size_t prev = static_cast<std::size_t>(-1);
        for (auto k : idx) {
            if (k != prev)
                out.push_back({xs[k], ys[k]});
            prev = k;
        }
        i = j;
    }
    return out;
}

} // namespace Kiln::Metrics
