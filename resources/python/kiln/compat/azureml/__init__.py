"""Azure ML v1's module layout over Kiln's workspace SDK: ``from kiln.compat.azureml.core import Workspace``
where a notebook had ``from azureml.core import Workspace``."""
