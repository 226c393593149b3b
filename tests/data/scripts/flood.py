"""Logs --points points of metric x at about 20,000 a second (step i, value i), then exits."""
import argparse
import time

from kiln import Run

p = argparse.ArgumentParser()
p.add_argument("--points", type=int, default=20000)
a = p.parse_args()
run = Run.get_context()
for i in range(a.points):
    run.log("x", float(i), step=i)
    if i % 200 == 199:
        time.sleep(0.01)
