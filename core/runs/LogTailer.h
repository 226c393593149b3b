#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace Kiln::Metrics {
class MetricStore;
}

namespace Kiln::Runs {

class RunStore;

// Streams a run's output files into the store as log lines: output.log (stdout and stderr) and every
// file under wd/logs/. Only whole lines are taken (a line over 16 KB is split); on the final pass the
// rest is taken too. How far each file was read is stored with its lines, so a restarted kilnd goes on
// where the last one stopped and no line arrives twice. The supervisor's system metrics (system.jsonl,
// SystemMetrics.h) are stored as the run's metrics the same way: each read is a metric batch whose sequence
// number is the offset it reached, committed with its points, so each sample is stored exactly once.
class LogTailer final {
public:
    LogTailer(RunStore& runs, Metrics::MetricStore& metrics)
        : m_runs(runs)
        , m_metrics(metrics) {}

    // Returns whether any line or metric was added.
    bool tailRun(std::int64_t runId, const std::filesystem::path& controlDir,
                 const std::filesystem::path& workDir, bool final);
    bool tailFile(std::int64_t runId, const std::string& stream, const std::filesystem::path& file,
                  bool final);
    bool tailSystem(std::int64_t runId, const std::filesystem::path& controlDir, bool final);

private:
    RunStore& m_runs;
    Metrics::MetricStore& m_metrics;
};

} // namespace Kiln::Runs
