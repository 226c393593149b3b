"""``azureml.train.hyperdrive.parameter_expressions``."""

from kiln.hyperdrive import (choice, lognormal, loguniform, normal, qlognormal, qloguniform, qnormal,  # noqa: F401
                             quniform, randint, uniform)
