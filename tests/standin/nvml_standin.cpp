// A STAND-IN for NVIDIA's libnvidia-ml.so.1, for tests only: this machine has no GPU, so the code that reads
// GPUs through NVML (core/runs/GpuSampler) is tested against this library, which exports the same functions
// with the same ABI and answers with fixed readings of two made-up GPUs:
//   GPU 0: 73 % busy, 64 C, 187.5 W; its processes are the caller's children (1536 MiB each) and pid 1
//          (999 MiB, not one of the run's);
//   GPU 1: 5 % busy, 35 C, 30 W; only pid 1 on it.
// The process list answers "insufficient size" to a buffer smaller than the list, as NVML does.
// KILN_NVML_STANDIN_MODE (comma-separated) makes it act as other drivers do:
//   r535    nvmlDeviceGetComputeRunningProcesses_v3 writes 32-byte entries (with usedGpuCcProtectedMemory),
//           as R535 drivers did into callers that expected 24;
//   detail  nvmlDeviceGetRunningProcessDetailList answers (versioned list, 32-byte entries); otherwise it
//           says "not supported", as drivers before R550 lack it;
//   many    GPU 0 also runs 30 more processes (pid 1, 10 MiB each).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace {
struct Device;
struct Utilization {
    unsigned gpu, memory;
};
struct Memory {
    unsigned long long total, free, used;
};
struct ProcessInfo {
    unsigned pid;
    unsigned long long usedGpuMemory;
    unsigned gpuInstanceId, computeInstanceId;
};
struct ProcessDetail { // also R535's _v3 entry
    unsigned pid;
    unsigned long long usedGpuMemory;
    unsigned gpuInstanceId, computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
};
struct ProcessDetailList {
    unsigned version, mode, numProcArrayEntries;
    ProcessDetail* procArray;
};
bool mode(const char* name) {
    const char* modes = std::getenv("KILN_NVML_STANDIN_MODE");
    return modes && std::strstr(modes, name);
}
int index(Device* d);
std::vector<ProcessDetail> processesOn(Device* d);
int index(Device* d) {
    return static_cast<int>(reinterpret_cast<std::uintptr_t>(d)) - 1;
}
std::vector<unsigned> childrenOfCaller() {
    std::vector<unsigned> out;
    const int self = ::getpid();
    DIR* proc = ::opendir("/proc");
    while (proc) {
        dirent* e = ::readdir(proc);
        if (!e)
            break;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE* f = std::fopen(path, "r");
        if (!f)
            continue;
        char buf[1024] = {};
        const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = 0;
        const char* close = std::strrchr(buf, ')');
        int ppid = 0;
        char state = 0;
        if (close && std::sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == self)
            out.push_back(static_cast<unsigned>(std::stoul(e->d_name)));
    }
    if (proc)
        ::closedir(proc);
    return out;
}
std::vector<ProcessDetail> processesOn(Device* d) {
    std::vector<ProcessDetail> list;
    if (index(d) == 0) {
        for (unsigned pid : childrenOfCaller())
            list.push_back({pid, 1536ull << 20, 0, 0, 0});
        if (mode("many"))
            for (int i = 0; i < 30; ++i)
                list.push_back({1, 10ull << 20, 0, 0, 0});
    }
    list.push_back({1, 999ull << 20, 0, 0, 0});
    return list;
}
} // namespace

extern "C" {
int nvmlInit_v2() {
    return 0;
}
int nvmlShutdown() {
    return 0;
}
int nvmlDeviceGetCount_v2(unsigned* count) {
    *count = 2;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, Device** device) {
    if (i >= 2)
        return 2; // NVML_ERROR_INVALID_ARGUMENT
    *device = reinterpret_cast<Device*>(static_cast<std::uintptr_t>(i + 1));
    return 0;
}
int nvmlDeviceGetUtilizationRates(Device* d, Utilization* u) {
    u->gpu = index(d) == 0 ? 73 : 5;
    u->memory = 10;
    return 0;
}
int nvmlDeviceGetMemoryInfo(Device*, Memory* m) {
    m->total = 16ull << 30;
    m->used = 4ull << 30;
    m->free = m->total - m->used;
    return 0;
}
int nvmlDeviceGetTemperature(Device* d, int sensor, unsigned* celsius) {
    if (sensor != 0)
        return 2;
    *celsius = index(d) == 0 ? 64 : 35;
    return 0;
}
int nvmlDeviceGetPowerUsage(Device* d, unsigned* milliwatts) {
    *milliwatts = index(d) == 0 ? 187500 : 30000;
    return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(Device* d, unsigned* count, void* infos) {
    const auto list = processesOn(d);
    if (*count < list.size()) {
        *count = static_cast<unsigned>(list.size());
        return 7; // NVML_ERROR_INSUFFICIENT_SIZE
    }
    *count = static_cast<unsigned>(list.size());
    if (mode("r535"))
        std::memcpy(infos, list.data(), list.size() * sizeof(ProcessDetail));
    else
        for (std::size_t i = 0; i < list.size(); ++i) {
            const ProcessInfo info{list[i].pid, list[i].usedGpuMemory, 0, 0};
            std::memcpy(static_cast<char*>(infos) + i * sizeof(ProcessInfo), &info, sizeof info);
        }
    return 0;
}
int nvmlDeviceGetRunningProcessDetailList(Device* d, ProcessDetailList* out) {
    if (!mode("detail"))
        return 3; // NVML_ERROR_NOT_SUPPORTED
    if (out->version != (sizeof(ProcessDetailList) | (1u << 24)) || out->mode != 0)
        return 2; // NVML_ERROR_INVALID_ARGUMENT
    const auto list = processesOn(d);
    if (out->numProcArrayEntries < list.size()) {
        out->numProcArrayEntries = static_cast<unsigned>(list.size());
        return 7;
    }
    out->numProcArrayEntries = static_cast<unsigned>(list.size());
    std::memcpy(out->procArray, list.data(), list.size() * sizeof(ProcessDetail));
    return 0;
}
}
