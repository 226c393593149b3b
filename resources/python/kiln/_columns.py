"""Kiln's binary metric batch ("application/x-kiln-metrics", version 1), standard library only.

The layout is kilnd's (core/metrics/Columns.h, API.md "Binary metric batches"): a little-endian header
(magic "KLNM", version, flags, key count, point count, seq, client id), the keys table, then the points as
columns: key indexes (only with several keys), steps, timestamps, values. Columns go through module
`array`, so a batch of a million points is encoded and decoded without a Python object per number.
"""

import array
import struct
import sys

CONTENT_TYPE = "application/x-kiln-metrics"
NEXT_STEP = -(1 << 63)  # "the key's next step"

_HEADER = struct.Struct("<4sHHIIqH")
_SWAP = sys.byteorder != "little"


def _column(code, values):
    a = array.array(code, values)
    if _SWAP:
        a.byteswap()
    return a.tobytes()


def _pad(parts, length):
    extra = -length % 8
    if extra:
        parts.append(b"\0" * extra)
    return length + extra


def encode(points, client=None, seq=None):
    """points: (key, value, timestamp, step or None) tuples. Returns the body of one batch."""
    keys = {}
    index = []
    steps = []
    timestamps = []
    values = []
    for key, value, timestamp, step in points:
        i = keys.get(key)
        if i is None:
            i = keys[key] = len(keys)
        index.append(i)
        values.append(value)
        timestamps.append(timestamp or 0.0)
        steps.append(NEXT_STEP if step is None else step)
    client_bytes = client.encode("utf-8") if client else b""
    parts = [_HEADER.pack(b"KLNM", 1, 0, len(keys), len(values), -1 if seq is None else seq, len(client_bytes)),
             client_bytes]
    length = _HEADER.size + len(client_bytes)
    for key in keys:
        name = key.encode("utf-8")
        parts.append(struct.pack("<H", len(name)))
        parts.append(name)
        length += 2 + len(name)
    length = _pad(parts, length)
    if len(keys) > 1:
        parts.append(_column("I", index))
        _pad(parts, length + 4 * len(index))
    parts.append(_column("q", steps))
    parts.append(_column("d", timestamps))
    parts.append(_column("d", values))
    return b"".join(parts)


def decode(body):
    """A batch's columns: {"keys": [...], "key": array of indexes or None (one key), "steps", "timestamps",
    "values": arrays}. Raises ValueError for a body that is not one."""
    view = memoryview(body)
    if len(view) < _HEADER.size:
        raise ValueError("not a Kiln metric batch: %d bytes" % len(view))
    magic, version, flags, key_count, n, _seq, client_length = _HEADER.unpack_from(view, 0)
    if magic != b"KLNM" or version != 1 or flags != 0:
        raise ValueError("not a version 1 Kiln metric batch")
    at = _HEADER.size + client_length
    keys = []
    for _ in range(key_count):
        (length,) = struct.unpack_from("<H", view, at)
        keys.append(bytes(view[at + 2:at + 2 + length]).decode("utf-8"))
        at += 2 + length
    at += -at % 8

    def column(code, size):
        nonlocal at
        end = at + size * n
        if end > len(view):
            raise ValueError("the batch ends inside a column")
        a = array.array(code)
        a.frombytes(view[at:end])
        if _SWAP:
            a.byteswap()
        at = end
        return a

    key = None
    if key_count > 1:
        key = column("I", 4)
        at += -at % 8
    steps = column("q", 8)
    timestamps = column("d", 8)
    values = column("d", 8)
    if at != len(view):
        raise ValueError("%d bytes follow the last column" % (len(view) - at))
    return {"keys": keys, "key": key, "steps": steps, "timestamps": timestamps, "values": values}
