"""Benchmark script: calls run.log() argv[1] times as fast as it can (one point per call, the key's next
step), waits until kilnd has stored every point, and logs how many calls per second that was."""
import sys
import time

import kiln

run = kiln.Run.get_context()
n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
start = time.time()
for i in range(n):
    run.log("loss", 1.0 / (i + 1))
calls = time.time() - start
run.flush()
stored = time.time() - start
run.log_batch({"log_calls_per_s": n / calls, "stored_per_s": n / stored}, step=0)
run.flush()
