"""Prints its own run token, then waits until it is canceled (at most ten minutes): a test calls kilnd with a
live run token."""
import os
import time

print("token " + os.environ["KILN_RUN_TOKEN"], flush=True)
time.sleep(600)
