"""Logs a metric and a line every 0.1 s for --seconds (and, with --until FILE, until FILE exists: a test holds
runs with it however slow the machine), writes logs/progress.txt and outputs/result.txt."""
import argparse
import os
import signal
import sys
import time

import kiln

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=30)
parser.add_argument("--ignore-term", action="store_true")
parser.add_argument("--until", help="keep going until this file exists")
args = parser.parse_args()
if args.ignore_term:
    signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))

run = kiln.Run.get_context()
os.makedirs("logs", exist_ok=True)
start = time.time()
i = 0
with open("logs/progress.txt", "w") as progress:
    while time.time() - start < args.seconds or (args.until and not os.path.exists(args.until)):
        run.log("value", i)
        print("tick %d" % i, flush=True)
        progress.write("progress %d\n" % i)
        progress.flush()
        i += 1
        time.sleep(0.1)
os.makedirs("outputs", exist_ok=True)
with open("outputs/result.txt", "w") as f:
    f.write("ticks=%d\n" % i)
print("done after %d ticks" % i)
