import sys
print("starting a script that will fail")
print("something went wrong: the answer is not 42", file=sys.stderr)
sys.exit(3)
