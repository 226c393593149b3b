"""``azureml.train.hyperdrive``: HyperDrive's configuration, samplings, policies and expressions."""

from kiln.hyperdrive import *  # noqa: F401,F403
from kiln.hyperdrive import __all__  # noqa: F401
