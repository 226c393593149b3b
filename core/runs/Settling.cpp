// Scheduler, part 3: settling an ended run on its own thread (its last output, outputs/ into the store,
// the final status), retried until it can be recorded. Part 1 is Scheduler.cpp; part 2 is Preparing.cpp.
#include "Scheduler.h"

#include "compute/LocalPool.h"
#include "runs/RunStore.h"
#include "store/BlobStore.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <csignal>
#include <cstring>
#include <thread>

namespace fs = std::filesystem;

namespace Kiln::Runs {

namespace {
constexpr int kLastLines = 20;

std::string signalName(int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// Whether `path` (canonical) lies inside `root` (canonical).
bool isWithin(const fs::path& path, const fs::path& root) {
    auto rel = path.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
}
} // namespace

void Scheduler::settle(std::int64_t runId) {
    Live live;
    {
        std::lock_guard g(m_mutex);
        const auto it = m_live.find(runId);
        if (it == m_live.end()) // (settled already, or forgotten: nothing is left to do on this thread)
            return;
        live = it->second;
    }
    for (int attempt = 0;; ++attempt) {
        try {
            settleOnce(runId, live);
            break;
        } catch (const std::exception& e) {
            // A full disk: the run keeps its files in its folder; tried again until it can be recorded.
            logOnce(runId, "settling it", e);
            if (m_stop)
                return; // the next kilnd finds exit.json and settles it
            std::this_thread::sleep_for(
                std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 5))));
        }
    }
    try {
        live.backend->forget(runId);
    } catch (const std::exception& e) {
        logOnce(runId, "forgetting it", e);
    }
    {
        std::lock_guard g(m_mutex);
        m_live.erase(runId);
        m_dirty = true; // its node is free
    }
    m_cv.notify_all();
}

void Scheduler::settleOnce(std::int64_t runId, const Live& a) {
    {
        std::lock_guard tail(m_tailMutex);
        if (m_tailer.tailRun(runId, a.controlDir, a.workDir, true))
            m_changed(runId, false);
    }
    Json exit;
    if (auto text = Util::tryReadFile(a.controlDir / "exit.json")) {
        try {
            exit = Json::parse(*text);
        } catch (const std::exception& e) {
            exit = {{"error", std::string("unreadable exit record: ") + e.what()}};
        }
    } else {
        if (auto pgid = m_runs.run(runId).value().pgid; pgid && *pgid > 0)
            ::kill(-static_cast<pid_t>(*pgid), SIGKILL);
        exit = {{"error", "the run's supervisor process died unexpectedly"}};
    }
    // Lines the supervisor dropped on a full disk and could not say so in the log itself: said here.
    if (const auto unsaid = exit.value("dropped_unsaid", std::int64_t(0)); unsaid > 0) {
        auto digits = std::to_string(unsaid);
        for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
            digits.insert(static_cast<std::size_t>(at), ",");
        exit.erase("dropped_unsaid"); // (said once, even if settling is tried again)
        Util::writeFileAtomic(a.controlDir / "exit.json", exit.dump());
        m_runs.appendLogs(
            runId, "output",
            {"kiln: " + digits + (unsaid == 1 ? " line" : " lines") + " not kept: the disk was full"},
            m_runs.logOffset(runId, "output"));
    }
    const auto current = m_runs.run(runId);
    if (!current || isTerminal(current->status) ||
        (current->status != RunStatus::Finalizing && !m_runs.transition(runId, RunStatus::Finalizing))) {
        m_pool.release(runId); // already ended (or the state machine refused the move, and logged it)
        return;
    }
    m_changed(runId, true);

    std::vector<RunFile> files;
    std::string collectError;
    std::error_code ec;
    auto collect = [&](const fs::path& root, const std::string& prefix) {
        if (!fs::is_directory(root, ec))
            return;
        const auto inside = fs::canonical(root, ec);
        for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (ec)
                continue;
            // A link is kept (as the file it names) only when it names a regular file inside the same
            // folder: never followed out of the run's folder.
            auto source = it->path();
            const auto status = it->symlink_status(ec);
            if (fs::is_symlink(status)) {
                auto target = fs::canonical(source, ec);
                if (ec || !fs::is_regular_file(target, ec) || !isWithin(target, inside))
                    continue;
                source = target;
            } else if (!fs::is_regular_file(status)) {
                continue;
            }
            auto rel = Util::safeRelativePath(prefix + it->path().lexically_relative(root).generic_string());
            if (!rel)
                continue;
            try {
                files.push_back(
                    {*rel, m_blobs.putFile(source), static_cast<std::int64_t>(fs::file_size(source))});
            } catch (const std::exception& e) {
                collectError = e.what();
            }
        }
    };
    collect(a.workDir / "outputs", "outputs/");
    collect(a.workDir / "logs", "logs/");
    if (fs::exists(a.controlDir / "output.log"))
        files.push_back({"output.log", m_blobs.putFile(a.controlDir / "output.log"),
                         static_cast<std::int64_t>(fs::file_size(a.controlDir / "output.log", ec))});
    m_runs.addFiles(runId, files);

    const auto lastLines = m_runs.lastLines(runId, kLastLines);
    auto withLastLines = [&](std::string msg) {
        if (!lastLines.empty()) {
            msg += "\nLast lines of output:";
            for (const auto& l : lastLines)
                msg += "\n" + l;
        }
        return msg;
    };
    // Canceled: someone asked (recorded on the run), or the cluster canceled the job itself.
    const bool canceled = m_runs.run(runId)->cancelRequested.has_value() ||
                          exit.value("slurm_state", std::string()) == "CANCELLED";
    m_runs.transition(runId, canceled ? RunStatus::Canceled : RunStatus::Failed, [&](RunRecord& r) {
        r.ended = exit.value("ended", Util::nowSeconds());
        if (exit.contains("exit_code") && exit["exit_code"].is_number())
            r.exitCode = exit["exit_code"].get<std::int64_t>();
        if (exit.contains("signal") && exit["signal"].is_number())
            r.signal = exit["signal"].get<std::int64_t>();
        if (canceled) {
            r.error = "canceled by " +
                      (r.cancelBy.empty() ? std::string("Slurm (scancel or a time limit)") : r.cancelBy);
        } else if (exit.contains("error")) {
            r.error = withLastLines(exit["error"].get<std::string>());
        } else if (r.signal) {
            r.error = withLastLines("killed by signal " + signalName(static_cast<int>(*r.signal)));
        } else if (r.exitCode.value_or(-1) != 0) {
            r.error = withLastLines("exited with status " + std::to_string(r.exitCode.value_or(-1)));
        } else if (!collectError.empty()) {
            r.error = "could not keep the run's outputs: " + collectError;
        } else {
            r.status = RunStatus::Completed;
        }
    });
    Util::removeTree(a.workDir);
    Util::removeTree(a.controlDir / "datasets");
    m_pool.release(runId);
    m_changed(runId, true);
}

} // namespace Kiln::Runs
