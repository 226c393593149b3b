"""Logs a known curve: loss = scale / (step + 1) and epoch = step // 10 for --points steps, then a
parameter; used by the comparison tests."""
import argparse
import time

from kiln import Run

p = argparse.ArgumentParser()
p.add_argument("--scale", type=float, default=1.0)
p.add_argument("--points", type=int, default=50)
p.add_argument("--optimizer", default="sgd")
a = p.parse_args()
run = Run.get_context()
run.param("optimizer", a.optimizer)
for step in range(a.points):
    run.log_batch({"loss": a.scale / (step + 1), "epoch": step // 10}, step=step)
    if step % 10 == 0:
        time.sleep(0.02)  # a little wall time, so relative time differs from the step
