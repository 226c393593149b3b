#include "SystemSummary.h"

#include <cstdio>

namespace Kiln::Metrics {

std::string systemSummary(const Json& finalValues) {
    const auto value = [&](const char* key) -> const Json* {
        const auto it = finalValues.find(key);
        return it != finalValues.end() && it->is_number() ? &*it : nullptr;
    };
    std::string out;
    char text[64];
    if (const auto* peak = value("sys/peak_rss_mb")) {
        const double mb = peak->get<double>();
        if (mb >= 1024)
            std::snprintf(text, sizeof text, "peak memory %.2f GiB", mb / 1024);
        else
            std::snprintf(text, sizeof text, "peak memory %.0f MiB", mb);
        out += text;
    }
    if (const auto* cpu = value("sys/mean_cpu")) {
        std::snprintf(text, sizeof text, "mean CPU %.2f cores", cpu->get<double>());
        out += (out.empty() ? "" : ", ") + std::string(text);
    }
    return out;
}

} // namespace Kiln::Metrics
