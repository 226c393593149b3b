#pragma once
#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace Kiln::Runs {

// What a run's processes use, read from /proc for a process and all its descendants (found through the
// parent links): the run supervisor's one view of them, for the memory limit and for per-run system metrics.
struct ProcessSample {
    double time = 0;           // when (seconds since the epoch)
    std::vector<pid_t> pids;   // the tree, root first
    double cpuUserSeconds = 0; // CPU time so far, live processes and the children they waited for
    double cpuSystemSeconds = 0;
    double cpuCores = 0;           // cores in use since the previous sample (0 for the first)
    std::int64_t rssBytes = 0;     // resident memory now
    std::int64_t peakRssBytes = 0; // the most seen by this sampler
    std::int64_t readBytes = 0;    // bytes passed to read()/write() calls so far (/proc/PID/io rchar, wchar:
    std::int64_t writeBytes = 0;   //   what the program asked for, cache hits included)
    int threads = 0;
    int openFiles = 0;
};

class ProcessSampler final {
public:
    explicit ProcessSampler(pid_t root)
        : m_root(root) {}

    // Reads the tree now. A tree that has ended gives an empty `pids`.
    ProcessSample sample();

private:
    pid_t m_root;
    double m_lastTime = 0;
    double m_lastCpu = -1;
    std::int64_t m_peak = 0;
};

} // namespace Kiln::Runs
