#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace Kiln::Metrics {

struct XY {
    double x;
    double y;
};

// Reduces a series (x ascending) to what a chart `columns` pixels wide can show without losing its shape:
// for each pixel column of [xMin, xMax] the first, minimum, maximum and last point, in x order. The
// points just outside the range are kept too, so lines run to the chart's edges. Finds the visible range
// by binary search, so the cost is the visible points, not the whole series.
std::vector<XY> reduceMinMax(std::span<const double> xs, std::span<const double> ys, double xMin, double xMax,
                             int columns);

} // namespace Kiln::Metrics
