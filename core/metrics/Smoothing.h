#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace Kiln::Metrics {

// Exponential moving average as TensorBoard's smoothing slider computes it, debiased so the first points
// are not dragged towards zero: s_i = m_i / (1 - w^(i+1)) with m_i = w m_{i-1} + (1 - w) v_i. Non-finite
// values pass through unsmoothed and do not disturb the average. Extend it point by point as data arrives.
class Ema {
public:
    explicit Ema(double weight)
        : m_weight(weight) {}
    double push(double value);
    void extend(std::span<const double> values, std::vector<double>& out) {
        for (double v : values)
            out.push_back(push(v));
    }

private:
    double m_weight;
    double m_mean = 0;
    double m_debias = 1; // w^(count)
};

// For x = another metric (e.g. epoch): for each step in `steps`, the value `of` had at the last of its
// steps at or before it (NaN before its first). Both step lists ascending.
std::vector<double> alignByStep(std::span<const double> steps, std::span<const double> ofSteps,
                                std::span<const double> ofValues);

} // namespace Kiln::Metrics

namespace Kiln::Metrics {
// Whether a smaller value of metric `key` is the better one (loss, error, mse, perplexity...), for the
// "best" of a run; otherwise larger is better (accuracy, f1, reward...).
bool lowerIsBetter(const std::string& key);
} // namespace Kiln::Metrics
