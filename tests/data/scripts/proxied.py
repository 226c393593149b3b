"""Logs --points points of metric p (step i, value i) and of q (no step) through a loopback proxy on --proxy-port that loses
replies, so the client must send batches again: kilnd must store each point once."""
import argparse
import os
import time

p = argparse.ArgumentParser()
p.add_argument("--proxy-port", type=int, required=True)
p.add_argument("--points", type=int, default=100)
a = p.parse_args()
os.environ["KILN_URL"] = "http://127.0.0.1:%d" % a.proxy_port
from kiln import Run  # noqa: E402  (reads KILN_URL)

run = Run.get_context()
for i in range(a.points):
    run.log("p", float(i), step=i)
    run.log("q", float(i))  # no step: the key's next one, which a repeated batch must not shift
    if i % 10 == 9:
        run.flush()  # ten batches, each acknowledged (or its reply lost) before the next
print("logged %d" % a.points, flush=True)
