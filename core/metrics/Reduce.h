#pragma once
#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace Kiln::Metrics {

struct XY {
    double x;
    double y;
};

// Cached ranges over a growing series of y values: the index of the minimum and maximum of every complete
// block of kBlock points, so a pixel column spanning thousands of points costs a few block lookups.
// extend() after appending; only new blocks are computed.
class BlockIndex {
public:
    static constexpr std::size_t kBlock = 16;
    void extend(std::span<const double> ys);
    void clear();
    // Indexes of the minimum and maximum of ys[a, b) (NaN is never an extreme unless all are NaN).
    std::pair<std::size_t, std::size_t> minMax(std::span<const double> ys, std::size_t a,
                                               std::size_t b) const;
    std::size_t memoryBytes() const {
        return (m_min.capacity() + m_max.capacity()) * sizeof(std::size_t) +
               (m_minValue.capacity() + m_maxValue.capacity()) * sizeof(double);
    }

private:
    // Per complete block: where its extremes are and their values (so a lookup stays in these arrays
    // instead of reaching back into the series, which costs a cache miss per block).
    std::vector<std::size_t> m_min, m_max;
    std::vector<double> m_minValue, m_maxValue;
};

// The pixel columns of [xMin, xMax]: which one x falls in, -1 left of the range and `columns` right of it.
struct Buckets {
    Buckets(double xMin, double xMax, int columns)
        : xMin(xMin)
        , xMax(xMax)
        , width(xMax > xMin ? (xMax - xMin) / columns : 1.0)
        , columns(columns) {}
    long of(double x) const {
        if (x < xMin)
            return -1;
        if (x > xMax)
            return columns;
        return std::min<long>(columns - 1, static_cast<long>((x - xMin) / width));
    }
    double xMin, xMax, width;
    int columns;
};

// Reduces a series (x ascending) to what a chart `columns` pixels wide can show without losing its shape:
// for each pixel column of [xMin, xMax] the first, minimum, maximum and last point, in x order. The
// points just outside the range are kept too, so lines run to the chart's edges. Column boundaries are
// found by binary search and extremes through `index` when given (it must cover ys), so the cost is
// about columns x log(points), not the number of points.
std::vector<XY> reduceMinMax(std::span<const double> xs, std::span<const double> ys, double xMin, double xMax,
                             int columns, const BlockIndex* index = nullptr);

} // namespace Kiln::Metrics
