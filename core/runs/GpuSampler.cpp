#include "GpuSampler.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <set>

namespace Kiln::Runs {

namespace {
// The few NVML types and functions used, as nvml.h declares them (the ABI NVIDIA keeps stable).
using Result = int; // nvmlReturn_t: 0 is NVML_SUCCESS
constexpr Result kSuccess = 0;
constexpr Result kInsufficientSize = 7;
using Device = struct NvmlDevice*;
struct Utilization {
    unsigned gpu;
    unsigned memory;
};
struct Memory {
    unsigned long long total, free, used;
};
struct ProcessInfo { // nvmlProcessInfo_t of the _v2 and _v3 calls
    unsigned pid;
    unsigned long long usedGpuMemory; // ULLONG_MAX when not available (e.g. without permission)
    unsigned gpuInstanceId;
    unsigned computeInstanceId;
};
} // namespace

struct GpuSampler::Api {
    Result (*init)() = nullptr;
    Result (*shutdown)() = nullptr;
    Result (*count)(unsigned*) = nullptr;
    Result (*handle)(unsigned, Device*) = nullptr;
    Result (*utilization)(Device, Utilization*) = nullptr;
    Result (*memory)(Device, Memory*) = nullptr;
    Result (*temperature)(Device, int, unsigned*) = nullptr; // sensor 0: the GPU die
    Result (*power)(Device, unsigned*) = nullptr;            // milliwatts
    Result (*processes)(Device, unsigned*, ProcessInfo*) = nullptr;
};

std::unique_ptr<GpuSampler> GpuSampler::load(std::string& why) {
    const char* configured = std::getenv("KILN_NVML_LIBRARY");
    const std::string name = configured && *configured ? configured : "libnvidia-ml.so.1";
    void* lib = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        why = "no NVIDIA driver library (" + name + ")";
        return nullptr;
    }
    auto api = std::make_unique<Api>();
    auto find = [lib](auto& fn, std::initializer_list<const char*> names) {
        for (const char* n : names)
            if (void* f = ::dlsym(lib, n)) {
                fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(f);
                return true;
            }
        return false;
    };
    const bool complete =
        find(api->init, {"nvmlInit_v2", "nvmlInit"}) && find(api->shutdown, {"nvmlShutdown"}) &&
        find(api->count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}) &&
        find(api->handle, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"}) &&
        find(api->utilization, {"nvmlDeviceGetUtilizationRates"}) &&
        find(api->memory, {"nvmlDeviceGetMemoryInfo"});
    // Optional: older drivers or devices may lack these; their readings are then left out.
    find(api->temperature, {"nvmlDeviceGetTemperature"});
    find(api->power, {"nvmlDeviceGetPowerUsage"});
    find(api->processes,
         {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"});
    unsigned count = 0;
    if (!complete) {
        why = name + " lacks the NVML functions Kiln reads";
    } else if (api->init() != kSuccess) {
        why = "NVML did not start (" + name + ": no usable NVIDIA driver)";
    } else if (api->count(&count) != kSuccess || count == 0) {
        api->shutdown();
        why = "NVML sees no GPU";
    } else {
        return std::unique_ptr<GpuSampler>(new GpuSampler(lib, std::move(api), count));
    }
    ::dlclose(lib);
    return nullptr;
}

GpuSampler::GpuSampler(void* library, std::unique_ptr<Api> api, unsigned count)
    : m_library(library)
    , m_api(std::move(api))
    , m_count(count) {}

GpuSampler::~GpuSampler() {
    m_api->shutdown();
    ::dlclose(m_library);
}

std::vector<GpuReading> GpuSampler::read(const std::vector<pid_t>& pids) {
    const std::set<pid_t> ours(pids.begin(), pids.end());
    std::vector<GpuReading> out;
    std::vector<ProcessInfo> infos(32);
    for (unsigned i = 0; i < m_count; ++i) {
        Device device = nullptr;
        if (m_api->handle(i, &device) != kSuccess)
            continue;
        GpuReading r;
        r.index = i;
        if (Utilization u{}; m_api->utilization(device, &u) == kSuccess)
            r.utilization = u.gpu;
        unsigned value = 0;
        r.temperatureC = m_api->temperature && m_api->temperature(device, 0, &value) == kSuccess ? value : -1;
        r.powerW = m_api->power && m_api->power(device, &value) == kSuccess ? value / 1000.0 : -1;
        if (m_api->processes) {
            unsigned n = static_cast<unsigned>(infos.size());
            Result result = m_api->processes(device, &n, infos.data());
            if (result == kInsufficientSize && n <= 4096) { // more processes than room: once more, larger
                infos.resize(n + 16);
                n = static_cast<unsigned>(infos.size());
                result = m_api->processes(device, &n, infos.data());
            }
            if (result == kSuccess)
                for (unsigned p = 0; p < std::min<std::size_t>(n, infos.size()); ++p)
                    if (ours.count(static_cast<pid_t>(infos[p].pid))) {
                        r.used = true;
                        if (infos[p].usedGpuMemory != ~0ull)
                            r.runMemoryMb += static_cast<double>(infos[p].usedGpuMemory) / (1024.0 * 1024.0);
                    }
        }
        out.push_back(r);
    }
    return out;
}

} // namespace Kiln::Runs
