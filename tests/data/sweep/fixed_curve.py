"""A sweep's trial whose `score` is its parameter --q at every epoch, a fixed function of it. It waits
(q - 0.7) * --stagger seconds first, so that trials run side by side with staggered starts, the worse ones
first: they are ahead in time, and a policy must still judge them against the better values that come later
at the same interval."""
import argparse
import time

import kiln

parser = argparse.ArgumentParser()
parser.add_argument("--q", type=float, required=True)
parser.add_argument("--r", type=int, default=0, help="a second parameter: trials of equal q")
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--pause", type=float, default=0.3, help="seconds per epoch")
parser.add_argument("--stagger", type=float, default=0.0, help="start after (q - 0.7) * this many seconds")
args = parser.parse_args()

run = kiln.Run.get_context()
time.sleep(max(0.0, (args.q - 0.7) * args.stagger))
for epoch in range(args.epochs):
    run.log("score", args.q)
    time.sleep(args.pause)
