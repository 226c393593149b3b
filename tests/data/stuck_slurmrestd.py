"""A STAND-IN for slurmrestd (not the real one: the real test cluster is shared by the Slurm tests, which a
cluster that stops answering would break): it answers provisioning (ping, partitions, nodes, a probe job that
completes) like slurmrestd v0.0.38, and once the file named by its second argument exists, it stops answering
(accepts and holds every request for 30 s), as a hung or overloaded slurmrestd does.
Usage: stuck_slurmrestd.py PORT_FILE STUCK_FILE; it writes the port it listens on to PORT_FILE."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, stuck_file = sys.argv[1], sys.argv[2]
NODES = [{"name": "n1", "state": "idle", "cpus": 4, "real_memory": 1000, "cpu_load": 12}]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if os.path.exists(stuck_file):
            time.sleep(30)
            return
        path = self.path.split("/slurm/v0.0.38", 1)[-1]
        if path == "/ping":
            self.answer({"pings": [{"hostname": "stand-in", "ping": "UP"}]})
        elif path == "/partitions":
            self.answer({"partitions": [{"name": "debug"}]})
        elif path == "/nodes":
            self.answer({"nodes": NODES})
        elif path.startswith("/job/"):
            self.answer({"jobs": [{"job_id": 1, "job_state": "COMPLETED"}]})
        else:
            self.send_error(404)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if os.path.exists(stuck_file):
            time.sleep(30)
            return
        self.answer({"job_id": 1})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
