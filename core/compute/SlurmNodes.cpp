#include "SlurmNodes.h"

#include "compute/ComputeStore.h"
#include "compute/SlurmClient.h"
#include "util/Fs.h"

#include <vector>

namespace Kiln::Compute {

namespace {
constexpr auto kWatchFor = std::chrono::minutes(1); // after the last ask

Json readNodes(const Json& config, const std::string& token) {
    SlurmClient slurm(config.value("slurm_url", std::string()), config.value("slurm_user", std::string()),
                      token);
    return SlurmNodes::describe(slurm.nodes());
}
} // namespace

Json SlurmNodes::describe(const Json& slurmNodes) {
    Json nodes = Json::array();
    for (const auto& n : slurmNodes) {
        nodes.push_back({{"name", n.value("name", "")},
                         {"state", n.value("state", "")},
                         {"cpus", n.value("cpus", 0)},
                         {"memory_mb", n.value("real_memory", 0)},
                         {"run", nullptr}});
        // The cluster's own load figure where slurmrestd gives one (the 1-minute load average x 100).
        if (n.contains("cpu_load") && n["cpu_load"].is_number())
            nodes.back()["cpu_load"] = n["cpu_load"].get<double>() / 100;
    }
    return nodes;
}

void SlurmNodes::seed(const Target& target, const Json& slurmNodes) {
    std::lock_guard g(m_mutex);
    auto& e = m_targets[target.name];
    e = Entry{};
    e.config = target.config;
    e.asked = e.checked = std::chrono::steady_clock::now();
    e.everChecked = true;
    e.view.nodes = describe(slurmNodes);
}

SlurmNodes::SlurmNodes(std::filesystem::path workspace, std::function<void()> changed,
                       std::chrono::milliseconds every)
    : m_workspace(std::move(workspace))
    , m_changed(std::move(changed))
    , m_every(every)
    , m_thread([this] { loop(); }) {}

SlurmNodes::~SlurmNodes() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
}

SlurmNodes::View SlurmNodes::get(const Target& target) {
    std::lock_guard g(m_mutex);
    auto& e = m_targets[target.name];
    const bool first = e.config.is_null() || e.config != target.config;
    if (first) { // (new, or its settings changed: what was read is of another cluster)
        e = Entry{};
        e.config = target.config;
    }
    e.asked = std::chrono::steady_clock::now();
    auto view = e.view;
    if (e.everChecked)
        view.checkedAgo = std::chrono::duration<double>(e.asked - e.checked).count();
    if (first)
        m_cv.notify_all();
    return view;
}

void SlurmNodes::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        // The targets due: asked for lately, and not read within the period (or never).
        const auto now = std::chrono::steady_clock::now();
        std::vector<std::pair<std::string, Json>> due;
        for (auto it = m_targets.begin(); it != m_targets.end();) {
            if (now - it->second.asked > kWatchFor) {
                it = m_targets.erase(it); // nobody looks: forgotten
                continue;
            }
            if (!it->second.everChecked || now - it->second.checked >= m_every)
                due.emplace_back(it->first, it->second.config);
            ++it;
        }
        if (due.empty()) {
            m_cv.wait_for(lock, m_every);
            continue;
        }
        bool changed = false;
        for (const auto& [name, config] : due) {
            lock.unlock();
            View read;
            try {
                const auto token = Util::tryReadFile(slurmTokenPath(m_workspace, name)).value_or("");
                read.nodes = readNodes(config, token);
            } catch (const std::exception& e) {
                read.error = e.what();
            }
            lock.lock();
            if (m_stop)
                return;
            const auto it = m_targets.find(name);
            if (it == m_targets.end() || it->second.config != config)
                continue; // forgotten or changed meanwhile
            auto& e = it->second;
            // Keep the nodes last read when a read fails: the error says they may be stale.
            if (!read.error.empty() && e.everChecked)
                read.nodes = e.view.nodes;
            changed |= !e.everChecked || read.nodes != e.view.nodes || read.error != e.view.error;
            e.view = std::move(read);
            e.everChecked = true;
            e.checked = std::chrono::steady_clock::now();
        }
        if (changed && m_changed) {
            lock.unlock();
            m_changed();
            lock.lock();
        }
    }
}

} // namespace Kiln::Compute
