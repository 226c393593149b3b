#pragma once
#include <filesystem>

namespace Kiln::Runs {

// The small process that owns one run's training process. kilnd starts it as `kilnd __supervise DIR`
// in its own session; it reads DIR/spec.json, starts the script in its own process group with stdout and
// stderr going to DIR/output.log, writes DIR/child.json (pid, pgid) and, when the script ends,
// DIR/exit.json (raw wait status, exit code or signal). It ignores SIGTERM/SIGINT/SIGHUP so that a crash
// or restart of kilnd never loses a run's ending: a restarted kilnd reads exit.json or re-attaches.
// While the script runs, it samples the script's process tree: system metrics (SystemMetrics.h) at the
// interval spec.json names, and the memory limit it names.
int superviseMain(const std::filesystem::path& controlDir);

// The same inside a Slurm batch job, as `kilnd __supervise-job DIR -- argv...`: the script (argv, with this
// process's environment and folder) runs as its child and its system metrics are sampled on the node. Slurm
// keeps the rest: the output, the memory limit and the exit status (this process exits as the script did).
int superviseJobMain(const std::filesystem::path& controlDir, char** argv);

// Whether a run's dataset folders can be made read-only bind mounts in a private mount namespace here
// (root, or unprivileged user namespaces), tried once in a child process. KILN_MOUNT_NAMESPACE=off in
// kilnd's environment says no without trying (for hosts where namespaces are unwanted): datasets are
// then copied instead of linked.
bool mountNamespacesAvailable();

} // namespace Kiln::Runs
