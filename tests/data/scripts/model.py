"""Writes a small model to outputs/model (content derived from --seed), a single file outputs/single.txt,
logs two metrics, and exits with --exit-code."""
import argparse
import json
import os
import random

from kiln import Run

p = argparse.ArgumentParser()
p.add_argument("--seed", type=int, default=1)
p.add_argument("--size", type=int, default=3_000_000)
p.add_argument("--exit-code", type=int, default=0)
a = p.parse_args()
os.makedirs("outputs/model/variables", exist_ok=True)
with open("outputs/model/weights.npz", "wb") as f:
    f.write(random.Random(a.seed).randbytes(a.size))
with open("outputs/model/variables/config.json", "w") as f:
    json.dump({"seed": a.seed, "layers": [784, 300, 100, 10]}, f)
with open("outputs/single.txt", "w") as f:
    f.write("only file %d\n" % a.seed)
run = Run.get_context()
run.log("loss", 1.0 / a.seed)
run.log("accuracy", 0.8 + a.seed / 100)
raise SystemExit(a.exit_code)
