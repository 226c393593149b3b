#pragma once
// A run's system metrics (the supervisor's sys/... keys) said in one line, as the run header says them:
// wherever a run's final metrics are listed, the script's own come first and these follow as one summary.
#include "util/Json.h"

#include <string>

namespace Kiln::Metrics {

inline bool isSystemKey(const std::string& key) {
    return key.starts_with("sys/");
}

// "peak memory 412 MiB, mean CPU 0.93 cores" from final values by key (sys/peak_rss_mb, sys/mean_cpu);
// empty when the run has neither.
std::string systemSummary(const Json& finalValues);

} // namespace Kiln::Metrics
