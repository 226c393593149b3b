"""Logs --points points of metric m (step i) and of n (no step) through a loopback proxy on --proxy-port that
loses replies, at about 300 points/s, flushing every 30: kilnd is killed and restarted meanwhile. Every point
must be stored exactly once."""
import argparse
import os
import time

p = argparse.ArgumentParser()
p.add_argument("--proxy-port", type=int, required=True)
p.add_argument("--points", type=int, default=3000)
a = p.parse_args()
os.environ["KILN_URL"] = "http://127.0.0.1:%d" % a.proxy_port
from kiln import Run  # noqa: E402  (reads KILN_URL)

run = Run.get_context()
for i in range(a.points):
    run.log("m", float(i), step=i)
    run.log("n", float(i))
    if i % 30 == 29:
        time.sleep(0.1)
run.flush()
print("logged %d" % a.points, flush=True)
