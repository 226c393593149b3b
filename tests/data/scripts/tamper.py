"""Tries to change every file of the dataset folder --data: chmod it writable and overwrite it. Prints what
it managed. On a read-only mount or a private copy, the workspace's stored files must stay as they were."""
import argparse
import os

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
a = p.parse_args()
for root, _, files in os.walk(a.data):
    for name in files:
        path = os.path.join(root, name)
        try:
            os.chmod(root, 0o755)
            os.chmod(path, 0o644)
            with open(path, "w") as f:
                f.write("tampered\n")
            print("changed " + name, flush=True)
        except OSError as e:
            print("could not change %s: %s" % (name, e.strerror), flush=True)
