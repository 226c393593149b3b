"""Logs one point of metric tick and prints one line every 10 ms for --seconds, then writes
outputs/result.txt. Each point and line carries its index, so a test can check nothing is lost or doubled."""
import argparse
import os
import time

from kiln import Run

p = argparse.ArgumentParser()
p.add_argument("--seconds", type=float, default=3)
p.add_argument("--no-metrics", action="store_true", help="print only (the run can end while kilnd is away)")
a = p.parse_args()
run = None if a.no_metrics else Run.get_context()
n = int(a.seconds * 100)
start = time.time()
for i in range(n):
    if run:
        run.log("tick", float(i), step=i)
    print("line %d" % i, flush=True)
    ahead = start + (i + 1) * 0.01 - time.time()
    if ahead > 0:
        time.sleep(ahead)
os.makedirs("outputs", exist_ok=True)
with open("outputs/result.txt", "w") as f:
    f.write("%d\n" % n)
print("done %d" % n, flush=True)
