"""The frames that travel through the rings between HTTP workers and the model process.

Worker -> model process:
- `submit`: one request's token-id sequences for one model, numbered from `first` on;
- `cancel`: item numbers whose request ended (timed out, client gone), to drop before they run.
Model process -> worker:
- `result`: one item's output row and where its time went;
- `failure`: the items of a request refused or failed, with the error's status, type and message.

Numbers are little-endian; token ids int32, outputs float32.
"""

from __future__ import annotations

import json
import struct
from array import array
from dataclasses import dataclass
from itertools import chain
from typing import Sequence

import numpy as np

SUBMIT, CANCEL, RESULT, FAILURE = b"S"[0], b"C"[0], b"R"[0], b"F"[0]

_SUBMIT = struct.Struct("<BHQI")  # kind, model index, first item, item count
_CANCEL = struct.Struct("<BI")  # kind, count
_RESULT = struct.Struct("<BQffIB")  # kind, item, queue s, inference s, batch size, dimensions
_FAILURE = struct.Struct("<BQIH")  # kind, first item, count, HTTP status (0: not a service error)


@dataclass(frozen=True)
class Submit:
    model: int
    first: int
    sequences: list[list[int]]


@dataclass(frozen=True)
class Cancel:
    items: list[int]


@dataclass(frozen=True)
class Result:
    item: int
    output: np.ndarray
    queue_s: float
    inference_s: float
    batch_size: int


@dataclass(frozen=True)
class Failure:
    first: int
    count: int
    status: int  # the ServiceError's HTTP status; 0 for any other exception
    type: str  # the error's type name (`ServiceError.type`, or the exception's class name)
    message: str
    headers: dict


def submit(model: int, first: int, sequences: Sequence[Sequence[int]]) -> bytes:
    lengths = array("I", [len(s) for s in sequences])
    tokens = array("i", chain.from_iterable(sequences))
    return _SUBMIT.pack(SUBMIT, model, first, len(sequences)) + lengths.tobytes() + tokens.tobytes()


def cancel(items: Sequence[int]) -> bytes:
    return _CANCEL.pack(CANCEL, len(items)) + array("Q", items).tobytes()


def result(item: int, output: np.ndarray, queue_s: float, inference_s: float, batch_size: int) -> bytes:
    row = np.ascontiguousarray(output, dtype=np.float32)
    shape = struct.pack(f"<{row.ndim}I", *row.shape)
    return _RESULT.pack(RESULT, item, queue_s, inference_s, batch_size, row.ndim) + shape + row.tobytes()


def failure(first: int, count: int, status: int, type_: str, message: str, headers: dict) -> bytes:
    text = json.dumps({"type": type_, "message": message, "headers": headers}).encode()
    return _FAILURE.pack(FAILURE, first, count, status) + text


def decode(frame: bytes) -> Submit | Cancel | Result | Failure:
    kind = frame[0]
    if kind == SUBMIT:
        _, model, first, count = _SUBMIT.unpack_from(frame)
        lengths = array("I")
        start = _SUBMIT.size
        lengths.frombytes(frame[start: start + 4 * count])
        tokens = array("i")
        tokens.frombytes(frame[start + 4 * count:])
        sequences, at = [], 0
        for length in lengths:
            sequences.append(tokens[at: at + length].tolist())
            at += length
        return Submit(model, first, sequences)
    if kind == CANCEL:
        _, count = _CANCEL.unpack_from(frame)
        items = array("Q")
        items.frombytes(frame[_CANCEL.size: _CANCEL.size + 8 * count])
        return Cancel(items.tolist())
    if kind == RESULT:
        _, item, queue_s, inference_s, batch_size, ndim = _RESULT.unpack_from(frame)
        shape = struct.unpack_from(f"<{ndim}I", frame, _RESULT.size)
        data = np.frombuffer(frame, dtype=np.float32, offset=_RESULT.size + 4 * ndim).reshape(shape).copy()
        return Result(item, data, queue_s, inference_s, batch_size)
    if kind == FAILURE:
        _, first, count, status = _FAILURE.unpack_from(frame)
        body = json.loads(frame[_FAILURE.size:].decode())
        return Failure(first, count, status, body["type"], body["message"], body["headers"])
    raise ValueError(f"unknown frame kind {kind!r}")
