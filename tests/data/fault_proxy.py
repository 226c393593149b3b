"""A TCP proxy for tests (127.0.0.1 only) that loses replies at random: it forwards to 127.0.0.1:PORT and, for
each connection with probability P (seeded, so a test run can be repeated), closes it as soon as the first
bytes of an answer come back, after the server has acted on the request. When the server is down, the
client's connection is closed at once. Prints the port it listens on as its first line.
Usage: fault_proxy.py PORT P [SEED]"""
import random
import socket
import sys
import threading

target, p = int(sys.argv[1]), float(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
lock = threading.Lock()


def close(*sockets):
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def pump(src, dst, cut):
    try:
        while True:
            data = src.recv(65536)
            if not data or cut:
                break
            dst.sendall(data)
    except OSError:
        pass
    close(src, dst)


def serve(client):
    try:
        upstream = socket.create_connection(("127.0.0.1", target), timeout=2)
        upstream.settimeout(None)
    except OSError:
        close(client)
        return
    with lock:
        cut = rng.random() < p
    threading.Thread(target=pump, args=(client, upstream, False), daemon=True).start()
    pump(upstream, client, cut)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
