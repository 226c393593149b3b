"""Benchmark script: logs its start time, then a point every 20 ms whose value is the wall time of the
log() call, so the reader can measure log() -> live feed latency."""
import sys
import time

start = time.time()
import kiln  # noqa: E402

run = kiln.Run.get_context()
run.log("started_at", start)
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5
while time.time() - start < seconds:
    run.log("sent_at", time.time())
    time.sleep(0.02)
