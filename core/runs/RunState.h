#pragma once
#include "runs/Run.h"

namespace Kiln::Runs {

// The run state machine: the one place that says which status may follow which. RunStore::transition
// refuses (and logs) every move this table does not allow, inside the transaction that would apply it.
//
//   Queued     -> Preparing | Running (Slurm) | Finalizing (a Slurm job that ended pending) | Failed |
//                 Canceled
//   Preparing  -> Queued (handed to Slurm; or requeued by a restarting kilnd) | Running | Finalizing (it
//                 ended before its start could be recorded: a full disk) | Failed | Canceled
//   Running    -> Finalizing | Queued (Slurm requeued the job) | Failed or Canceled (the supervisor vanished)
//   Finalizing -> Completed | Failed | Canceled
//   Completed, Failed, Canceled: final.
//
// A "move" to the same non-final status updates the run's other fields (its node, its process group).
bool isLegalTransition(RunStatus from, RunStatus to);

} // namespace Kiln::Runs
