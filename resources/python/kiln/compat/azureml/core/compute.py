"""``azureml.core.compute``: ComputeTarget, AmlCompute (and SlurmCompute, Kiln's own)."""

from kiln.workspace import AmlCompute, ComputeTarget, SlurmCompute

__all__ = ["AmlCompute", "ComputeTarget", "SlurmCompute"]
