"""``azureml.core``: Workspace, Experiment, ScriptRunConfig, Run, Model, Dataset, Environment, ComputeTarget."""

from kiln.workspace import (ComputeTarget, Dataset, Environment, Experiment, KilnError, Model, ScriptRunConfig,
                            Workspace)
from kiln.workspace import WorkspaceRun as Run  # what Experiment.submit returns; Run.get_context() in scripts

__all__ = ["Workspace", "Experiment", "ScriptRunConfig", "Run", "Model", "Dataset", "Environment", "ComputeTarget",
           "KilnError"]
