#pragma once
#include "runs/ProcessSampler.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace Kiln::Runs {

class GpuSampler;

// A run's system metrics, as ordinary metrics under the reserved prefix `sys/` (so charts, comparison,
// export, queries and sweeps treat them like any other): the run supervisor samples the run's process tree
// (ProcessSampler) and its GPUs (GpuSampler) and appends one JSON line per sample to system.jsonl in the
// run's control folder, `{"i": sample, "t": seconds since 1970, "m": {key: value}}`; kilnd's log follower
// stores each line once (LogTailer::tailSystem), from this machine or from a Slurm node alike.
//
// Keys: sys/cpu (cores in use since the last sample), sys/cpu_user, sys/cpu_system, sys/mean_cpu (cores,
// averaged since the run began), sys/rss_mb (resident memory of the whole tree, MiB), sys/peak_rss_mb,
// sys/read_mb_s and sys/write_mb_s (bytes the processes read and wrote through system calls, MiB/s),
// sys/threads, sys/open_files, sys/processes; per GPU N the run has used: sys/gpuN/util (%, the whole
// device), sys/gpuN/mem_mb (the run's processes' memory on it), sys/gpuN/temp_c, sys/gpuN/power_w.
inline constexpr const char* kSystemMetricsFile = "system.jsonl";
inline constexpr const char* kSystemPrefix = "sys/";

class SystemRecorder final {
public:
    // `baseline`: a sample taken as the run began (rates and the mean start from it).
    SystemRecorder(std::filesystem::path file, const ProcessSample& baseline, GpuSampler* gpus);
    ~SystemRecorder();
    SystemRecorder(const SystemRecorder&) = delete;
    SystemRecorder& operator=(const SystemRecorder&) = delete;

    // Appends the line for `now` (a later sample of the same tree); a write that fails (a full disk) loses
    // that sample only.
    void record(const ProcessSample& now);
    std::int64_t samples() const { return m_index; }

private:
    std::filesystem::path m_file;
    int m_fd = -1;
    GpuSampler* m_gpus;
    ProcessSample m_first;
    ProcessSample m_last;
    std::int64_t m_index = 0;
    std::uint64_t m_gpusUsed = 0; // bit N: the run has had a process on GPU N (its readings are kept)
};

} // namespace Kiln::Runs
