#include "SystemMetrics.h"

#include "runs/GpuSampler.h"
#include "util/Json.h"

#include <algorithm>
#include <cmath>
#include <fcntl.h>
#include <unistd.h>

namespace Kiln::Runs {

SystemRecorder::SystemRecorder(std::filesystem::path file, const ProcessSample& baseline, GpuSampler* gpus)
    : m_file(std::move(file))
    , m_fd(::open(m_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644))
    , m_gpus(gpus)
    , m_first(baseline)
    , m_last(baseline) {}

SystemRecorder::~SystemRecorder() {
    if (m_fd >= 0)
        ::close(m_fd);
}

void SystemRecorder::record(const ProcessSample& now) {
    const double dt = now.time - m_last.time;
    if (now.pids.empty() || dt <= 0)
        return;
    constexpr double kMiB = 1024.0 * 1024.0;
    const auto rate = [dt](double from, double to) { return std::max(0.0, (to - from) / dt); };
    // Rounded so that a line stays short: no reading is more precise than this anyway.
    const auto round = [](double v, double unit) { return std::round(v / unit) / (1 / unit); };
    Json m = {{"sys/cpu", round(rate(m_last.cpuUserSeconds + m_last.cpuSystemSeconds,
                                     now.cpuUserSeconds + now.cpuSystemSeconds),
                                0.001)},
              {"sys/cpu_user", round(rate(m_last.cpuUserSeconds, now.cpuUserSeconds), 0.001)},
              {"sys/cpu_system", round(rate(m_last.cpuSystemSeconds, now.cpuSystemSeconds), 0.001)},
              {"sys/rss_mb", round(static_cast<double>(now.rssBytes) / kMiB, 0.01)},
              {"sys/peak_rss_mb", round(static_cast<double>(now.peakRssBytes) / kMiB, 0.01)},
              // A process that ended takes its counters along: a drop is not a negative rate.
              {"sys/read_mb_s",
               round(rate(static_cast<double>(m_last.readBytes), static_cast<double>(now.readBytes)) / kMiB,
                     0.001)},
              {"sys/write_mb_s",
               round(rate(static_cast<double>(m_last.writeBytes), static_cast<double>(now.writeBytes)) / kMiB,
                     0.001)},
              {"sys/threads", now.threads},
              {"sys/open_files", now.openFiles},
              {"sys/processes", static_cast<std::int64_t>(now.pids.size())}};
    if (now.time > m_first.time)
        m["sys/mean_cpu"] = round(
            (now.cpuUserSeconds + now.cpuSystemSeconds - m_first.cpuUserSeconds - m_first.cpuSystemSeconds) /
                (now.time - m_first.time),
            0.001);
    if (m_gpus) {
        for (const auto& g : m_gpus->read(now.pids)) {
            if (g.index >= 64)
                continue;
            if (g.used)
                m_gpusUsed |= std::uint64_t(1) << g.index;
            if (!(m_gpusUsed & (std::uint64_t(1) << g.index)))
                continue; // a GPU the run has never touched says nothing about the run
            const std::string p = "sys/gpu" + std::to_string(g.index) + "/";
            m[p + "util"] = g.utilization;
            m[p + "mem_mb"] = round(g.runMemoryMb, 0.01);
            if (g.temperatureC >= 0)
                m[p + "temp_c"] = g.temperatureC;
            if (g.powerW >= 0)
                m[p + "power_w"] = round(g.powerW, 0.01);
        }
    }
    m_last = now;
    const std::string line = Json{{"i", m_index}, {"t", round(now.time, 0.001)}, {"m", m}}.dump() + "\n";
    ++m_index;
    // One write of a whole line (O_APPEND): the follower never sees half of one unless the disk is full, and
    // then it skips what it cannot parse.
    if (m_fd >= 0 && ::write(m_fd, line.data(), line.size()) < 0) {
        // Nothing to do but go on: the next sample may fit.
    }
}

} // namespace Kiln::Runs
