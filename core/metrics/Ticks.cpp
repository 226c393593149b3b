#include "Ticks.h"

#include <cmath>

namespace Kiln::Metrics {

std::vector<double> linearTicks(double lo, double hi, int target) {
    std::vector<double> out;
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo || target < 1)
        return out;
    const double raw = (hi - lo) / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9 && out.size() < 1000; t += step)
        out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return out;
}

std::vector<double> logTicks(double lo, double hi, int target) {
    std::vector<double> out;
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo || target < 1)
        return out;
    const int decades = static_cast<int>(std::ceil(hi) - std::floor(lo));
    const int every = std::max(1, decades / target);
    for (double d = std::floor(lo); d <= std::ceil(hi) && out.size() < 1000; d += every) {
        if (d >= lo && d <= hi)
            out.push_back(d);
        if (decades <= target / 2)
            for (double m : {2.0, 5.0}) {
                const double t = d + std::log10(m);
                if (t >= lo && t <= hi)
                    out.push_back(t);
            }
    }
    return out;
}

} // namespace Kiln::Metrics
