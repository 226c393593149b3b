#include "ProcessSampler.h"

#include "util/Fs.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Runs {

ProcessSample ProcessSampler::sample() {
    ProcessSample s;
    s.time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    // Parent links of every process, then the tree from the root down.
    std::map<pid_t, std::vector<pid_t>> children;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const auto name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto stat = Util::tryReadFile(entry.path() / "stat");
        if (!stat)
            continue;
        const auto close = stat->rfind(')'); // the command name may hold spaces and parentheses
        int ppid = 0;
        char state = 0;
        if (close != std::string::npos &&
            std::sscanf(stat->c_str() + close + 1, " %c %d", &state, &ppid) == 2)
            children[ppid].push_back(std::stoi(name));
    }
    static const long page = ::sysconf(_SC_PAGESIZE);
    static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (!fs::exists("/proc/" + std::to_string(m_root)))
        return s;
    s.pids.assign(1, m_root);
    for (std::size_t i = 0; i < s.pids.size(); ++i) {
        const auto dir = "/proc/" + std::to_string(s.pids[i]);
        if (auto statm = Util::tryReadFile(dir + "/statm")) {
            long size = 0, resident = 0;
            if (std::sscanf(statm->c_str(), "%ld %ld", &size, &resident) == 2)
                s.rssBytes += static_cast<std::int64_t>(resident) * page;
        }
        if (auto stat = Util::tryReadFile(dir + "/stat")) {
            // Fields after the command: state(3) ... utime(14) stime(15) cutime(16) cstime(17) ...
            // num_threads(20).
            const auto close = stat->rfind(')');
            unsigned long utime = 0, stime = 0;
            long cutime = 0, cstime = 0, threads = 0;
            if (close != std::string::npos &&
                std::sscanf(stat->c_str() + close + 1,
                            " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld %*d %*d %ld",
                            &utime, &stime, &cutime, &cstime, &threads) == 5) {
                s.cpuUserSeconds += static_cast<double>(utime + static_cast<unsigned long>(cutime)) / ticks;
                s.cpuSystemSeconds += static_cast<double>(stime + static_cast<unsigned long>(cstime)) / ticks;
                s.threads += static_cast<int>(threads);
            }
        }
        if (auto io = Util::tryReadFile(dir + "/io")) {
            long long rchar = 0, wchar = 0;
            if (std::sscanf(io->c_str(), "rchar: %lld\nwchar: %lld", &rchar, &wchar) == 2) {
                s.readBytes += rchar;
                s.writeBytes += wchar;
            }
        }
        std::error_code fdError;
        for (auto it = fs::directory_iterator(dir + "/fd", fdError);
             !fdError && it != fs::directory_iterator(); it.increment(fdError))
            ++s.openFiles;
        if (auto it = children.find(s.pids[i]); it != children.end())
            s.pids.insert(s.pids.end(), it->second.begin(), it->second.end());
    }
    m_peak = std::max(m_peak, s.rssBytes);
    s.peakRssBytes = m_peak;
    const double cpu = s.cpuUserSeconds + s.cpuSystemSeconds;
    if (m_lastCpu >= 0 && s.time > m_lastTime)
        s.cpuCores = std::max(0.0, (cpu - m_lastCpu) / (s.time - m_lastTime));
    m_lastCpu = cpu;
    m_lastTime = s.time;
    return s;
}

} // namespace Kiln::Runs
