#include "GpuSampler.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <optional>
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
struct ProcessInfo;    // nvmlProcessInfo_t: see readProcessInfos for its size, which depends on the driver
struct ProcessDetail { // nvmlProcessDetail_v1_t (R550 drivers and later)
    unsigned pid;
    unsigned long long usedGpuMemory; // ULLONG_MAX when not available (e.g. without permission)
    unsigned gpuInstanceId;
    unsigned computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
};
struct ProcessDetailList { // nvmlProcessDetailList_v1_t: versioned, so that its entries can grow safely
    unsigned version;
    unsigned mode; // 0: compute processes
    unsigned numProcArrayEntries;
    ProcessDetail* procArray;
};
constexpr unsigned kProcessDetailListV1 = sizeof(ProcessDetailList) | (1u << 24); // NVML_STRUCT_VERSION

struct Process {
    unsigned pid;
    unsigned long long memory;
};

bool processExists(unsigned pid) {
    return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// The entries of nvmlDeviceGetComputeRunningProcesses_v3/_v2: {pid, usedGpuMemory, gpuInstanceId,
// computeInstanceId}, 24 bytes each, except that R535 drivers' _v3 wrote 32-byte entries (with
// usedGpuCcProtectedMemory) into the same call. The stride is told from what came: the one at which every
// entry names a process that exists with a memory figure that can be real (24 when both can).
std::vector<Process> parseProcessInfos(const std::vector<unsigned char>& raw, unsigned n) {
    auto at = [&raw](std::size_t offset, auto& value) {
        std::memcpy(&value, raw.data() + offset, sizeof value);
    };
    auto plausible = [&](std::size_t stride) {
        for (unsigned i = 0; i < n; ++i) {
            unsigned pid = 0;
            unsigned long long memory = 0;
            at(i * stride, pid);
            at(i * stride + 8, memory);
            if (!processExists(pid) || (memory != ~0ull && memory > (1ull << 50)))
                return false;
        }
        return true;
    };
    const std::size_t stride = n > 1 && !plausible(24) && plausible(32) ? 32 : 24;
    std::vector<Process> out(n);
    for (unsigned i = 0; i < n; ++i) {
        at(i * stride, out[i].pid);
        at(i * stride + 8, out[i].memory);
    }
    return out;
}
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
    Result (*processDetails)(Device, ProcessDetailList*) = nullptr; // versioned; preferred where there
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
    find(api->processDetails, {"nvmlDeviceGetRunningProcessDetailList"});
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
    // The compute processes on a device with the memory each uses there; nullopt when the driver cannot say.
    auto processesOn = [this](Device device) -> std::optional<std::vector<Process>> {
        if (m_api->processDetails) {
            std::vector<ProcessDetail> details(32);
            for (int attempt = 0; attempt < 2; ++attempt) {
                ProcessDetailList list{kProcessDetailListV1, 0, static_cast<unsigned>(details.size()),
                                       details.data()};
                const Result r = m_api->processDetails(device, &list);
                if (r == kInsufficientSize && list.numProcArrayEntries <= 4096) { // more than room: once more
                    details.resize(list.numProcArrayEntries + 16);
                    continue;
                }
                if (r != kSuccess)
                    break; // (not supported on this device or driver: the older call below)
                std::vector<Process> out;
                for (unsigned i = 0; i < std::min<std::size_t>(list.numProcArrayEntries, details.size()); ++i)
                    out.push_back({details[i].pid, details[i].usedGpuMemory});
                return out;
            }
        }
        if (!m_api->processes)
            return std::nullopt;
        // Room for the larger entries (32 bytes) however many the driver writes: never past the buffer.
        unsigned capacity = 32;
        for (int attempt = 0; attempt < 2; ++attempt) {
            std::vector<unsigned char> raw(std::size_t(capacity) * 32);
            unsigned n = capacity;
            const Result r = m_api->processes(device, &n, reinterpret_cast<ProcessInfo*>(raw.data()));
            if (r == kInsufficientSize && n <= 4096) {
                capacity = n + 16;
                continue;
            }
            if (r != kSuccess)
                return std::nullopt;
            return parseProcessInfos(raw, std::min(n, capacity));
        }
        return std::nullopt;
    };

    std::vector<GpuReading> out;
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
        if (const auto processes = processesOn(device))
            for (const auto& p : *processes)
                if (ours.count(static_cast<pid_t>(p.pid))) {
                    r.used = true;
                    if (p.memory != ~0ull)
                        r.runMemoryMb += static_cast<double>(p.memory) / (1024.0 * 1024.0);
                }
        out.push_back(r);
    }
    return out;
}

} // namespace Kiln::Runs
