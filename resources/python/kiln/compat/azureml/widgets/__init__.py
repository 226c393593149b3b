"""``azureml.widgets``: RunDetails, a live view of a run or a sweep in a notebook."""

from kiln.widgets import RunDetails

__all__ = ["RunDetails"]
