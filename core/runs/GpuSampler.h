#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace Kiln::Runs {

// One GPU as a run sees it: the device's utilization, temperature and power (NVML knows these per device
// only), and the memory held by the run's own processes on it.
struct GpuReading {
    unsigned index = 0;
    double utilization = 0;  // percent of the time a kernel ran, over NVML's last sample period
    double runMemoryMb = 0;  // memory of the run's processes on this GPU
    double temperatureC = 0; // -1 when the device does not say (likewise power)
    double powerW = 0;
    bool used = false; // one of the run's processes is on this GPU
};

// NVIDIA GPUs through NVML, loaded at run time (dlopen of libnvidia-ml.so.1, or the library named by
// KILN_NVML_LIBRARY): nothing NVIDIA is needed to build Kiln, and a machine without the driver simply
// has no GPU readings. The tests use a stand-in library exporting the same functions.
class GpuSampler final {
public:
    // nullptr, with the reason in `why`, when there is no usable NVML here (no library, no GPU).
    static std::unique_ptr<GpuSampler> load(std::string& why);
    ~GpuSampler();
    GpuSampler(const GpuSampler&) = delete;
    GpuSampler& operator=(const GpuSampler&) = delete;

    unsigned count() const { return m_count; }
    // Every GPU now; `pids` are the run's processes (their memory is counted, and they mark a GPU used).
    std::vector<GpuReading> read(const std::vector<pid_t>& pids);

private:
    struct Api;
    GpuSampler(void* library, std::unique_ptr<Api> api, unsigned count);
    void* m_library;
    std::unique_ptr<Api> m_api;
    unsigned m_count;
};

} // namespace Kiln::Runs
