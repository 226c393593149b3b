"""Writes links under logs/ and outputs/: one to a file inside each folder and one leading out of the run's
folder (to /etc/passwd). Kiln must stream and keep the files inside, and never follow the links out."""
import os

os.makedirs("logs", exist_ok=True)
os.makedirs("outputs", exist_ok=True)
with open("logs/real.txt", "w") as f:
    f.write("a real log line\n")
os.symlink("/etc/passwd", "logs/passwd")
os.symlink("real.txt", "logs/again.txt")
with open("outputs/model.bin", "w") as f:
    f.write("weights\n")
os.symlink("model.bin", "outputs/latest.bin")
os.symlink("/etc/passwd", "outputs/passwd")
print("links written", flush=True)
