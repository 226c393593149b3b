"""A tiny HTTP server for tests (127.0.0.1 only). Serves files of a folder, plus:
  /missing/...      404
  /drop/NAME        announces the whole file, sends half, closes the connection
  /flaky/NAME       503 on the first request for NAME, the file afterwards
  /slow/NAME        the file in 64 KB pieces, 50 ms apart
Prints the port it listens on as its first line."""
import http.server
import os
import socketserver
import sys

root = sys.argv[1]
seen = set()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.lstrip("/").split("/", 1)
        kind, name = (parts[0], parts[1]) if len(parts) == 2 and parts[0] in ("drop", "flaky", "missing", "slow") else ("", self.path.lstrip("/"))
        path = os.path.join(root, os.path.basename(name))
        if kind == "missing" or not os.path.isfile(path):
            self.send_error(404, "Not Found")
            return
        if kind == "flaky" and name not in seen:
            seen.add(name)
            self.send_error(503, "Try again")
            return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if kind == "slow":
            import time
            for i in range(0, len(data), 65536):
                self.wfile.write(data[i:i + 65536])
                self.wfile.flush()
                time.sleep(0.05)
            return
        if kind == "drop":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
