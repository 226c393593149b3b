"""Prints --lines numbered lines (about 100 bytes each, one every 2 ms) and logs metric i for each, then
"done N". A write that fails for lack of space is tried again from where it stopped, so that every line
reaches the output exactly once however long the disk stays full."""
import argparse
import errno
import os
import time

from kiln import Run

p = argparse.ArgumentParser()
p.add_argument("--lines", type=int, default=3000)
a = p.parse_args()
run = Run.get_context()


def write_all(data):
    while data:
        try:
            n = os.write(1, data)
            data = data[n:]
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
            time.sleep(0.1)


for i in range(a.lines):
    write_all(("line %d %s\n" % (i, "x" * 90)).encode())
    run.log("i", float(i), step=i)
    time.sleep(0.002)
run.flush()
write_all(("done %d\n" % a.lines).encode())
