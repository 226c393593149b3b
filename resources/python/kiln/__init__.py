"""Kiln's client module for training scripts (standard library only).

    import kiln
    run = kiln.Run.get_context()
    run.log("loss", 0.42)                # step defaults to the key's next step
    run.log("accuracy", 0.9, step=100)
    run.log_batch({"loss": 0.4, "acc": 0.8}, step=7)
    run.param("learning_rate", 0.001)
    run.tag("model", "mlp")
    run.log_image("confusion", plot=plt)  # also log_list, log_row, log_table, upload_file, upload_folder

Points are buffered and sent by a background thread (about every 50 ms), retried with backoff while
kilnd is unreachable (and after the Retry-After it asks for when a run logs faster than its limit), and
flushed when the script exits. The buffer is bounded (KILN_MAX_BUFFER points,
default 1,000,000); when it overflows the oldest points are dropped with a warning. Outside a Kiln run
(no KILN_URL/KILN_RUN_ID/KILN_RUN_TOKEN) every call is a no-op and a note is printed once.
"""

import atexit
import http.client
import json
import math
import os
import shutil
import ssl
import sys
import threading
import time
import urllib.parse

from . import _columns

__all__ = ["Run", "KerasCallback"]

_FLUSH_INTERVAL = 0.05
_MAX_BATCH = 20000


def _warn(message):
    print("kiln: " + message, file=sys.stderr, flush=True)


class _Busy(Exception):
    """kilnd answered 429: this run logs faster than its limit; retry after `seconds`."""

    def __init__(self, retry_after):
        super().__init__("kilnd is rate limiting this run")
        try:
            self.seconds = min(30.0, max(0.05, float(retry_after)))
        except (TypeError, ValueError):
            self.seconds = 1.0


class _Sender:
    """Background thread sending buffered points to kilnd, with retries."""

    def __init__(self, url, run_id, token):
        parsed = urllib.parse.urlparse(url)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port
        self._path = "/api/v1/runs/%s" % run_id
        self._auth = "Bearer " + token
        self._conn = None
        self._io = threading.Lock()  # one request at a time on the shared connection
        self._lock = threading.Condition()
        self._points = []
        self._max_buffer = int(os.environ.get("KILN_MAX_BUFFER", "1000000"))
        self._dropped = 0
        self._closing = False
        self._inflight = False
        # Exactly once: every batch carries this client's id and its own sequence number, and is sent again
        # unchanged until acknowledged, so kilnd stores a batch whose reply was lost only once.
        self._client = "py-" + os.urandom(12).hex()
        self._seq = 0
        self._pending = None  # the batch being sent: its body, until acknowledged
        self._thread = threading.Thread(target=self._loop, name="kiln-sender", daemon=True)
        self._thread.start()

    def add(self, points):
        with self._lock:
            self._points.extend(points)
            over = len(self._points) - self._max_buffer
            if over > 0:
                # The batch being sent stays whole (it may already be stored); the oldest after it go.
                start = self._pending[0] if self._pending else 0
                del self._points[start:start + over]
                if self._dropped == 0:
                    _warn("metric buffer full (kilnd unreachable?): dropping the oldest points")
                self._dropped += over
            if len(self._points) >= _MAX_BATCH:
                self._lock.notify()

    def request(self, method, suffix, body):
        """Sends one request now (params, tags); returns the decoded answer or raises."""
        return self._send(method, self._path + suffix, json.dumps(body), "application/json")

    def _connection(self):
        if self._conn is None:
            if self._https:
                # A workspace server with its own (self-signed) certificate names it in KILN_CA_FILE.
                context = ssl.create_default_context(cafile=os.environ.get("KILN_CA_FILE") or None)
                if os.environ.get("KILN_CA_FILE") and hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN"):
                    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=30, context=context)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
        return self._conn

    def _send(self, method, path, body, content_type):
        with self._io:
            return self._send_locked(method, path, body, content_type)

    def _send_locked(self, method, path, body, content_type):
        headers = {"Authorization": self._auth, "Content-Type": content_type}
        for attempt in range(2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status == 429:
                    raise _Busy(resp.getheader("Retry-After"))
                if resp.status >= 500:
                    raise ConnectionError("kilnd answered %d" % resp.status)
                if resp.status >= 400:
                    raise ValueError("kilnd refused the request (%d): %s" % (resp.status, data.decode("utf-8", "replace")))
                return json.loads(data) if data else None
            except (OSError, http.client.HTTPException):
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if attempt == 1:
                    raise

    def _loop(self):
        backoff = 0.1
        while True:
            with self._lock:
                if self._pending is None:
                    if not self._points and not self._closing:
                        self._lock.wait(_FLUSH_INTERVAL)
                    if not self._points:
                        if self._closing:
                            return
                        continue
                    # The batch is fixed here: a resend carries the same points under the same sequence.
                    count = min(len(self._points), _MAX_BATCH)
                    self._seq += 1
                    body = _columns.encode(self._points[:count], self._client, self._seq)
                    self._pending = (count, body)
                count, body = self._pending
                self._inflight = True
            try:
                self._send("POST", self._path + "/metrics", body, _columns.CONTENT_TYPE)
                with self._lock:
                    del self._points[:count]
                    self._pending = None
                    self._inflight = False
                    self._lock.notify_all()
                backoff = 0.1
                time.sleep(_FLUSH_INTERVAL if len(self._points) < _MAX_BATCH else 0)
            except _Busy as busy:  # over the server's rate limit: send the same batch again when told
                with self._lock:
                    self._inflight = False
                    self._lock.notify_all()
                time.sleep(busy.seconds)
            except ValueError as e:
                _warn(str(e) + " -- dropping %d points" % count)
                with self._lock:
                    del self._points[:count]
                    self._pending = None
                    self._inflight = False
                    self._lock.notify_all()
            except Exception:  # unreachable, or the reply was lost: the same batch again later
                with self._lock:
                    self._inflight = False
                    self._lock.notify_all()
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def flush(self, timeout=None):
        deadline = None if timeout is None else time.time() + timeout
        with self._lock:
            self._lock.notify_all()
            while self._points or self._inflight:
                remaining = None if deadline is None else deadline - time.time()
                if remaining is not None and remaining <= 0:
                    return False
                self._lock.wait(0.05 if remaining is None else min(0.05, remaining))
        return True

    def close(self, timeout):
        if not self.flush(timeout):
            with self._lock:
                left = len(self._points)
            _warn("could not send %d metric points before exit (kilnd unreachable)" % left)
        with self._lock:
            self._closing = True
            self._lock.notify_all()


class Run:
    """The current run, like azureml.core.Run.get_context()."""

    _context = None
    _context_lock = threading.Lock()

    def __init__(self, sender=None, run_id=None):
        self._sender = sender
        self.id = run_id
        self._folder = os.getcwd()  # the run's folder: outputs/ and logs/ there are kept when it ends
        self._images = {}
        self._files_lock = threading.Lock()

    @classmethod
    def get_context(cls):
        with cls._context_lock:
            if cls._context is None:
                url = os.environ.get("KILN_URL")
                run_id = os.environ.get("KILN_RUN_ID")
                token = os.environ.get("KILN_RUN_TOKEN")
                if url and run_id and token:
                    sender = _Sender(url, run_id, token)
                    cls._context = Run(sender, int(run_id))
                    atexit.register(sender.close, float(os.environ.get("KILN_EXIT_FLUSH_SECONDS", "60")))
                else:
                    _warn("not running inside Kiln: metrics, params and tags are not recorded")
                    cls._context = Run()
            return cls._context

    @property
    def offline(self):
        return self._sender is None

    @staticmethod
    def _point(name, value, step):
        # Checked here, where the caller sees it: kilnd refuses a whole batch for one bad point.
        name = str(name)
        if not 0 < len(name.encode("utf-8")) <= 250 or any(ord(c) < 0x20 or ord(c) == 0x7f for c in name):
            raise ValueError("metric name %r: 1 to 250 bytes, no control characters" % name[:60])
        value = float(value)
        if not math.isfinite(value):
            raise ValueError("metric %r: value %r is not finite" % (name, value))
        if step is not None:
            step = int(step)
            if not 0 <= step <= 1 << 53:
                raise ValueError("metric %r: step %d is out of range (0 to 2**53)" % (name, step))
        return (name, value, time.time(), step)

    def log(self, name, value, step=None):
        """Logs one value of metric `name` (step defaults to the metric's next step)."""
        if self._sender is not None:
            self._sender.add([self._point(name, value, step)])

    def log_batch(self, metrics, step=None):
        """Logs several values at once: a dict {name: value} (sharing `step`), or a list of
        (name, value) / (name, value, step) tuples."""
        if self._sender is None:
            return
        items = metrics.items() if isinstance(metrics, dict) else metrics
        points = []
        for item in items:
            name, value = item[0], item[1]
            points.append(self._point(name, value, item[2] if len(item) > 2 else step))
        self._sender.add(points)

    def param(self, name, value):
        """Records a parameter (hyperparameter) of the run."""
        self.set_params({name: value})

    def set_params(self, params):
        self._record("params", params)

    def tag(self, name, value=""):
        self.set_tags({name: value})

    def set_tags(self, tags):
        self._record("tags", tags)

    def _record(self, kind, values):
        if self._sender is None:
            return
        values = {str(k): (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in values.items()}
        try:
            self._sender.request("POST", "/" + kind, {kind: values})
        except Exception as e:  # a bookkeeping failure must not stop training
            _warn("could not record %s: %s" % (kind, e))

    # Images, tables and files, with v1's meanings. They are written into the run's folder (logs/images/,
    # logs/tables.jsonl, outputs/), which kilnd keeps as the run's files when it ends; the run page shows
    # the images and tables from there.

    def log_list(self, name, value, description=""):
        """Logs a list of values as the metric `name`, one point each."""
        self.log_batch([(name, v) for v in value])

    def log_image(self, name, path=None, plot=None, description=""):
        """Keeps an image under `name`: a file (`path`), or a matplotlib figure or pyplot (`plot`) saved as
        PNG. Logged again under the same name, it is the next of a series."""
        if (path is None) == (plot is None):
            raise ValueError("log_image(%r): give path= (an image file) or plot= (a matplotlib figure)" % name)
        if self._sender is None:
            return
        with self._files_lock:
            n = self._images[name] = self._images.get(name, 0) + 1
        extension = ".png" if plot is not None else (os.path.splitext(str(path))[1].lower() or ".png")
        relative = "logs/images/%s/%04d%s" % (_slug(name), n, extension)
        target = os.path.join(self._folder, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if plot is not None:
            plot.savefig(target, format="png")
        else:
            shutil.copyfile(path, target)
        self._append("logs/images.jsonl", {"name": str(name), "file": relative, "index": n,
                                           "description": str(description or ""), "time": time.time()})

    def log_row(self, name, description=None, **row):
        """Adds a row (column=value...) to the table `name`."""
        self._append("logs/tables.jsonl", {"name": str(name), "row": {k: _plain(v) for k, v in row.items()}})

    def log_table(self, name, value, description=""):
        """Adds the rows of a table given as {column: [values...]} to the table `name`."""
        columns = list(value)
        for i in range(max((len(value[c]) for c in columns), default=0)):
            self.log_row(name, **{c: value[c][i] if i < len(value[c]) else None for c in columns})

    def upload_file(self, name, path_or_stream):
        """Keeps a file as the run's file `name` (under outputs/ unless it names outputs/ or logs/)."""
        if self._sender is None:
            return
        target = self._kept_path(name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if hasattr(path_or_stream, "read"):
            with open(target, "wb") as f:
                data = path_or_stream.read()
                f.write(data.encode() if isinstance(data, str) else data)
        else:
            shutil.copyfile(path_or_stream, target)

    def upload_folder(self, name, path):
        """Keeps a folder's files as the run's files under `name` (under outputs/ unless it names outputs/
        or logs/)."""
        if self._sender is None:
            return
        shutil.copytree(path, self._kept_path(name), dirs_exist_ok=True)

    def _kept_path(self, name):
        name = str(name).replace("\\", "/").lstrip("/")
        if ".." in name.split("/") or not name:
            raise ValueError("%r: a run's file is a relative path without '..'" % name)
        if not name.startswith(("outputs/", "logs/")):
            name = "outputs/" + name
        return os.path.join(self._folder, name)

    def _append(self, relative, record):
        if self._sender is None:
            return
        target = os.path.join(self._folder, relative)
        with self._files_lock:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "a") as f:
                f.write(json.dumps(record) + "\n")

    def flush(self, timeout=None):
        """Blocks until every logged point is acknowledged by kilnd (or the timeout passes)."""
        return True if self._sender is None else self._sender.flush(timeout)


def _slug(name):
    """A name as a folder name: letters, digits, - _ . kept, the rest -."""
    out = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(name)).strip("-.")
    return out[:80] or "image"


def _plain(value):
    """A table cell as JSON: numbers, text, booleans and None as they are, anything else as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # a numpy scalar
        return _plain(value.item())
    return str(value)


class KerasCallback:
    """A Keras-style callback: pass it to model.fit(callbacks=[kiln.KerasCallback()]).

    Logs every value Keras reports at the end of an epoch (step = epoch) and, every `batch_every`
    training batches, the batch values as "batch/<name>" (step = batches seen so far)."""

    def __init__(self, run=None, batch_every=10):
        self.run = run or Run.get_context()
        self.batch_every = batch_every
        self._batches = 0
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_epoch_end(self, epoch, logs=None):
        self.run.log_batch({k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}, step=epoch)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.batch_every and self._batches % self.batch_every == 0:
            self.run.log_batch({"batch/" + k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))},
                               step=self._batches)

    def __getattr__(self, name):
        # Every other Keras hook (on_train_begin, on_test_batch_end, ...) is accepted and ignored.
        if name.startswith("on_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)
