"""A TCP proxy for tests (127.0.0.1 only) that loses the connection once: it forwards to 127.0.0.1:PORT and,
for the first DROPS connections, closes them after AFTER bytes of the answer have passed. Prints the
port it listens on as its first line, then "lost a reply" each time it cuts an answer kilnd had begun to
send (the request had been served).  Usage: drop_proxy.py PORT AFTER [DROPS]"""
import socket
import sys
import threading

target, after = int(sys.argv[1]), int(sys.argv[2])
drops = [int(sys.argv[3]) if len(sys.argv) > 3 else 1]
lock = threading.Lock()


def pump(src, dst, limit):
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if limit is not None and sent + len(data) >= limit:
                dst.sendall(data[: limit - sent])
                print("lost a reply", flush=True)
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    upstream = socket.create_connection(("127.0.0.1", target))
    with lock:
        cut = drops[0] > 0
        drops[0] -= 1 if cut else 0
    threading.Thread(target=pump, args=(client, upstream, None), daemon=True).start()
    pump(upstream, client, after if cut else None)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
