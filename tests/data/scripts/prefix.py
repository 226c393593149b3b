import sys
print("prefix", sys.prefix)
