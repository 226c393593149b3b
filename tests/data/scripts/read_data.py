"""Prints each file of the folder --data (relative path and size, sorted), as a run sees a dataset."""
import argparse
import os

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
a = p.parse_args()
found = []
for root, _, files in os.walk(a.data):
    for name in files:
        path = os.path.join(root, name)
        found.append((os.path.relpath(path, a.data), os.path.getsize(path)))
for rel, size in sorted(found):
    print("file %s %d" % (rel, size), flush=True)
