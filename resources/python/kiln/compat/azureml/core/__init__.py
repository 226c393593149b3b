"""``azureml.core``: Workspace, Experiment, ScriptRunConfig, Run, Model, Dataset, Environment, ComputeTarget."""

from kiln import Run as _ScriptRun
from kiln.workspace import (ComputeTarget, Dataset, Environment, Experiment, KilnError, Model, ScriptRunConfig,
                            Workspace, WorkspaceRun)


class Run(WorkspaceRun):
    """A submitted run (what Experiment.submit returns), and, inside a training script, ``Run.get_context()``
    for logging, as in v1."""

    @staticmethod
    def get_context(*args, **kwargs):
        return _ScriptRun.get_context(*args, **kwargs)


__all__ = ["Workspace", "Experiment", "ScriptRunConfig", "Run", "Model", "Dataset", "Environment", "ComputeTarget",
           "KilnError"]
