#pragma once
#include <vector>

namespace Kiln::Metrics {

// Axis ticks at "nice" values (1, 2, 5 x 10^k) covering [lo, hi], about `target` of them.
std::vector<double> linearTicks(double lo, double hi, int target);
// Ticks for a log10 axis: lo and hi are log10 of the data range; answers log10 positions at powers of ten
// (and 2x, 5x between them when the range is narrow).
std::vector<double> logTicks(double lo, double hi, int target);

} // namespace Kiln::Metrics
