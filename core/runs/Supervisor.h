#pragma once
#include <filesystem>

namespace Kiln::Runs {

// The small process that owns one run's training process. kilnd starts it as `kilnd __supervise DIR`
// in its own session; it reads DIR/spec.json, starts the script in its own process group with stdout and
// stderr going to DIR/output.log, writes DIR/child.json (pid, pgid) and, when the script ends,
// DIR/exit.json (raw wait status, exit code or signal). It ignores SIGTERM/SIGINT/SIGHUP so that a crash
// or restart of kilnd never loses a run's ending: a restarted kilnd reads exit.json or re-attaches.
int superviseMain(const std::filesystem::path& controlDir);

} // namespace Kiln::Runs
