"""A sweep's trial with a known answer: logs `score` once per epoch, climbing towards
-(x - 0.3)^2 - (y + 1)^2 (best at x=0.3, y=-1), so a policy can tell good trials from bad ones early.
With --until FILE it waits for FILE before its first epoch, with --then-until FILE after it (tests hold
trials with them)."""
import argparse
import os
import time

import kiln

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, default=0.0)
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--pause", type=float, default=0.05, help="seconds per epoch")
parser.add_argument("--until", help="wait for this file before training")
parser.add_argument("--then-until", help="wait for this file after the first epoch")
args = parser.parse_args()

run = kiln.Run.get_context()
while args.until and not os.path.exists(args.until):
    time.sleep(0.05)
target = -(args.x - 0.3) ** 2 - (args.y + 1) ** 2
for epoch in range(args.epochs):
    run.log("score", target - 1.0 / (epoch + 1))
    while epoch == 0 and args.then_until and not os.path.exists(args.then_until):
        time.sleep(0.05)
    time.sleep(args.pause)
print("x=%g y=%g score=%g" % (args.x, args.y, target - 1.0 / args.epochs))
