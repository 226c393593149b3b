"""Burns two cores for 3 s (two processes), then holds 300 MB for 3 s. Logs what it measured itself, so that
a test can hold the supervisor's samples against it: burn/cpu_seconds (the workers' CPU time), burn/start,
burn/end, hold/start, hold/end (seconds since 1970)."""
import multiprocessing
import resource
import time

from kiln import Run


def burn(seconds):
    end = time.time() + seconds
    while time.time() < end:
        pass


if __name__ == "__main__":
    run = Run.get_context()
    start = time.time()
    workers = [multiprocessing.Process(target=burn, args=(3,)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    end = time.time()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    block = bytearray(300 << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    held = time.time()
    time.sleep(3)
    run.log("burn/cpu_seconds", used.ru_utime + used.ru_stime)
    run.log("burn/start", start)
    run.log("burn/end", end)
    run.log("hold/start", held)
    run.log("hold/end", time.time())
    run.flush()
    print("done", flush=True)
