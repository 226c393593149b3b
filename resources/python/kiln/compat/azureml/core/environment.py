"""``azureml.core.environment``."""

from kiln.workspace import Environment

__all__ = ["Environment"]
