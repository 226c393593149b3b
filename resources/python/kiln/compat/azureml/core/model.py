"""``azureml.core.model``."""

from kiln.workspace import Model

__all__ = ["Model"]
