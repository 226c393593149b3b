"""Sends a body of MEGABYTES with chunked transfer encoding (no Content-Length) and prints the status.
Usage: chunked_post.py URL TOKEN PATH MEGABYTES"""
import http.client
import sys
import urllib.parse

url, token, path, megabytes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlparse(url)


def body():
    chunk = b"x" * (1 << 20)
    for _ in range(megabytes):
        yield chunk


conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
try:
    conn.request("POST", path, body=body(), headers={"Authorization": "Bearer " + token}, encode_chunked=True)
    print(conn.getresponse().status)
except (BrokenPipeError, ConnectionResetError):
    # The server answered and closed while the rest was still being sent: read what it said.
    print(conn.getresponse().status if conn.sock else "reset")
