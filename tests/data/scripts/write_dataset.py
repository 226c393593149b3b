import os, sys
folder = sys.argv[1]
print("files:", sorted(os.listdir(folder)))
try:
    with open(os.path.join(folder, "train-labels-idx1-ubyte.gz"), "ab") as f:
        f.write(b"x")
    print("WRITE SUCCEEDED")
except OSError as e:
    print("write refused:", e)
try:
    open(os.path.join(folder, "new.txt"), "w").write("x")
    print("CREATE SUCCEEDED")
except OSError as e:
    print("create refused:", e)
