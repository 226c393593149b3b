"""HTTP to a workspace server (kilnd), standard library only: the workspace SDK's one way in.

Same rules as the logging client: a bearer token on every request, TLS checked against the workspace's
certificate when it names one, and a connection kilnd refuses (it is restarting) retried with backoff.
"""

import hashlib
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse
import uuid

from . import _columns


class KilnError(Exception):
    """kilnd refused a request (``status`` is the HTTP status; 0 when it could not be reached). The message is
    kilnd's own, which says what to do."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


class Client:
    def __init__(self, url, token, ca_file=None, timeout=60.0):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise KilnError("not a workspace server URL: %r" % url)
        self.url = url.rstrip("/")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port
        self._token = token
        self._ca_file = ca_file
        self._timeout = timeout

    def _connection(self, timeout):
        if not self._https:
            return http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        context = ssl.create_default_context(cafile=self._ca_file or None)
        if self._ca_file and hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN"):
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=context)

    def history(self, run_path, key):
        """Every point of metric `key` of a run (run_path: /api/v1/runs/ID) as columns ("steps", "timestamps",
        "values": arrays), read in kilnd's binary format."""
        path = run_path + "/metrics/history?key=" + quote(key)
        body = self.request("GET", path, accept=_columns.CONTENT_TYPE)
        try:
            return _columns.decode(body)
        except ValueError as e:
            raise KilnError("kilnd answered a history that does not decode: %s" % e)

    def request(self, method, path, body=None, timeout=None, accept=None, patience=60.0):
        """The JSON answer to METHOD path (path starts with /api/v1), or the raw bytes when `accept` names
        another type. Raises KilnError.

        A change carries an Idempotency-Key, the same on every try: when the connection drops after kilnd
        acted, the request is sent again and kilnd answers it with the first answer (one run, version or
        dataset, not two). While kilnd cannot be reached (it is restarting) the request is tried again for up
        to `patience` seconds, which is said once."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Authorization": "Bearer " + self._token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if accept:
            headers["Accept"] = accept
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline = time.monotonic() + patience
        delay = 0.2
        while True:
            conn = self._connection(timeout or self._timeout)
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                retry_after = response.getheader("Retry-After")
            except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
                    http.client.RemoteDisconnected) as e:
                if time.monotonic() + delay > deadline:
                    raise KilnError("the workspace server at %s cannot be reached: %s" % (self.url, e))
                warn_once("the workspace server at %s is not answering (%s); trying again for up to %d s"
                          % (self.url, e, patience))
                time.sleep(delay)
                delay = min(delay * 2, 3.0)
                continue
            except OSError as e:
                raise KilnError("the workspace server at %s cannot be reached: %s" % (self.url, e))
            finally:
                conn.close()
            # The same request still being answered (409), or kilnd busy (503): asked again as it says.
            if status in (409, 503) and retry_after and time.monotonic() + 1 < deadline:
                time.sleep(min(float(retry_after) if retry_after.isdigit() else 1.0, 5.0))
                continue
            if status >= 400:
                try:
                    message = json.loads(payload.decode("utf-8")).get("error") or payload.decode("utf-8")
                except (ValueError, AttributeError):
                    message = payload.decode("utf-8", "replace")
                raise KilnError(message, status)
            if accept:
                return payload
            if not payload:
                return None
            return json.loads(payload.decode("utf-8"))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, {} if body is None else body, **kw)

    def download(self, path, target, sha256=None):
        """Streams the bytes at `path` into the file `target` (through a temporary file beside it), checking
        them against `sha256` (or the X-Kiln-Sha256 header). Nothing is left behind when it fails."""
        conn = self._connection(self._timeout)
        part = target + ".part"
        try:
            conn.request("GET", path, headers={"Authorization": "Bearer " + self._token})
            response = conn.getresponse()
            if response.status >= 400:
                raise KilnError(response.read().decode("utf-8", "replace"), response.status)
            expected = sha256 or response.getheader("X-Kiln-Sha256")
            digest = hashlib.sha256()
            os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
            with open(part, "wb") as out:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
            if expected and digest.hexdigest() != expected:
                raise KilnError("%s arrived damaged (SHA-256 %s, expected %s); nothing was written"
                                % (path, digest.hexdigest(), expected))
            os.replace(part, target)
        except OSError as e:
            raise KilnError("could not download %s: %s" % (path, e))
        finally:
            conn.close()
            if os.path.exists(part):
                os.remove(part)


def quote(name):
    """A name as one segment of a URL path."""
    return urllib.parse.quote(str(name), safe="")


def quote_path(path):
    """A relative file path (a/b.txt) as the tail of a URL path."""
    return urllib.parse.quote(str(path), safe="/")


def wait_job(client, job_id, show_output=False):
    """Waits for a kilnd job (a dataset registration...) and returns its result; raises with its error."""
    version = -1
    while True:
        job = client.get("/api/v1/jobs/%d?version=%d&timeout_ms=20000" % (job_id, version), timeout=90)
        version = job["version"]
        if show_output and job.get("progress"):
            p = job["progress"]
            print("%s of %s files" % (p.get("files_done", "?"), p.get("file_count", "?")), flush=True)
        if job["state"] == "succeeded":
            return job["result"]
        if job["state"] != "running":
            raise KilnError(job.get("error") or "the job %s" % job["state"], job.get("error_status", 0))


_warned = set()


def warn_once(what):
    if what not in _warned:
        _warned.add(what)
        print("kiln: " + what, file=sys.stderr, flush=True)
