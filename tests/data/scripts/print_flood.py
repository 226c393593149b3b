"""Prints numbered 200-character lines, about --rate a second, until --until FILE exists, counting the prints
that failed (a full disk must never fail them: output goes through the run's supervisor); then writes that
count to --report and exits with status 3."""
import argparse
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--rate", type=int, default=5000)
p.add_argument("--until", required=True)
p.add_argument("--report", required=True)
a = p.parse_args()
errors = 0
n = 0
while not os.path.exists(a.until):
    for _ in range(max(1, a.rate // 20)):
        try:
            print("line %08d %s" % (n, "y" * 185), flush=True)
        except OSError:
            errors += 1
        n += 1
    time.sleep(0.05)
with open(a.report, "w") as f:
    f.write("errors=%d lines=%d\n" % (errors, n))
sys.exit(3)
