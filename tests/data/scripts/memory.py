"""--hold-mb N: fills N MB (resident) and holds it for 5 s. --reserve-mb N: imports numpy and reserves N MB of
address space without touching it (what an address-space limit wrongly counts), then ends."""
import argparse
import mmap
import time

p = argparse.ArgumentParser()
p.add_argument("--hold-mb", type=int, default=0)
p.add_argument("--reserve-mb", type=int, default=0)
a = p.parse_args()
if a.reserve_mb:
    import numpy  # noqa: F401  (maps large libraries and thread stacks)
    reserved = mmap.mmap(-1, a.reserve_mb << 20)
    print("reserved %d MB" % a.reserve_mb, flush=True)
if a.hold_mb:
    block = b"x" * (a.hold_mb << 20)
    print("holding %d MB" % (len(block) >> 20), flush=True)
    time.sleep(5)
print("done", flush=True)
