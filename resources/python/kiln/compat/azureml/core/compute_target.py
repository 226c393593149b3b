"""``azureml.core.compute_target``: ComputeTargetException, raised for a target that does not exist."""

from kiln.workspace import ComputeTargetException

__all__ = ["ComputeTargetException"]
