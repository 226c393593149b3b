#include "Smoothing.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace Kiln::Metrics {

double Ema::push(double value) {
    if (!std::isfinite(value))
        return value;
    m_mean = m_weight * m_mean + (1 - m_weight) * value;
    m_debias *= m_weight;
    return m_weight >= 1 ? value : m_mean / (1 - m_debias);
}

std::vector<double> alignByStep(std::span<const double> steps, std::span<const double> ofSteps,
                                std::span<const double> ofValues) {
    std::vector<double> out;
    out.reserve(steps.size());
    const std::size_t n = std::min(ofSteps.size(), ofValues.size());
    std::size_t j = 0; // ofSteps[j - 1] <= current step
    for (double s : steps) {
        while (j < n && ofSteps[j] <= s)
            ++j;
        out.push_back(j ? ofValues[j - 1] : std::numeric_limits<double>::quiet_NaN());
    }
    return out;
}

} // namespace Kiln::Metrics

namespace Kiln::Metrics {
bool lowerIsBetter(const std::string& key) {
    std::string k;
    for (char c : key)
        k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word :
         {"loss", "err", "mse", "mae", "rmse", "perplexity", "time", "latency", "wer", "cer"})
        if (k.find(word) != std::string::npos)
            return true;
    return false;
}
} // namespace Kiln::Metrics
