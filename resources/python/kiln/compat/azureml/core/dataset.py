"""``azureml.core.dataset``."""

from kiln.workspace import Dataset

__all__ = ["Dataset"]
