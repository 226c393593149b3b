#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace Kiln::Runs {

class RunStore;

// Streams a run's output files into the store as log lines: output.log (stdout and stderr) and every
// file under wd/logs/. Only whole lines are taken (a line over 16 KB is split); on the final pass the
// rest is taken too. How far each file was read is stored with its lines, so a restarted kilnd goes on
// where the last one stopped and no line arrives twice.
class LogTailer final {
public:
    explicit LogTailer(RunStore& runs)
        : m_runs(runs) {}

    // Returns whether any line was added.
    bool tailRun(std::int64_t runId, const std::filesystem::path& controlDir,
                 const std::filesystem::path& workDir, bool final);
    bool tailFile(std::int64_t runId, const std::string& stream, const std::filesystem::path& file,
                  bool final);

private:
    RunStore& m_runs;
};

} // namespace Kiln::Runs
