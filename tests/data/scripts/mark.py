"""Appends "<run id> <pid>" to --marker (a file outside the run) when it starts, then sleeps --seconds: a test
counts the lines to see how many times each run was started, and finds its process."""
import argparse
import os
import time

p = argparse.ArgumentParser()
p.add_argument("--marker", required=True)
p.add_argument("--seconds", type=float, default=0)
a = p.parse_args()
with open(a.marker, "a") as f:
    f.write("%s %d\n" % (os.environ.get("KILN_RUN_ID", "?"), os.getpid()))
print("started", flush=True)
time.sleep(a.seconds)
print("done", flush=True)
