"""Request bodies of the protocol's inference route, made plain JSON before FastAPI reads them.

Clients of the protocol send JSON with any Content-Type (tritonclient sends none that says JSON),
and may use the binary tensor data extension: the header `Inference-Header-Content-Length: N`,
then N bytes of JSON, then the inputs' raw bytes in order, each input's size in its
`parameters.binary_data_size`. A BYTES tensor's raw bytes are its elements, each a 4-byte
little-endian length and that many bytes. This middleware turns such a body into the JSON form
(`data`: the elements as strings), so the route sees one format.
"""

from __future__ import annotations

import json
import struct

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import InvalidInput, ServiceError, error_response
from service.middleware import read_body, replay

HEADER_LENGTH = b"inference-header-content-length"


def _bytes_elements(raw: bytes, name: str) -> list[str]:
    elements, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidInput(f"{name}: binary BYTES data ends inside an element's length", field=name)
        (length,) = struct.unpack_from("<I", raw, offset)
        chunk = raw[offset + 4: offset + 4 + length]
        if len(chunk) != length:
            raise InvalidInput(f"{name}: binary BYTES data ends inside element {len(elements)}", field=name)
        try:
            elements.append(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            field = f"{name}[{len(elements)}]"
            raise InvalidInput(f"{field}: not valid UTF-8 text", field=field) from None
        offset += 4 + length
    return elements


def binary_to_json(body: bytes, header_length: bytes) -> bytes:
    """The JSON form of a body that uses the binary tensor data extension."""
    if not header_length.isdigit() or int(header_length) > len(body):
        raise InvalidInput(f"Inference-Header-Content-Length: {header_length.decode('latin-1')!r} is not "
                           f"a length within the body's {len(body)} bytes", field="Inference-Header-Content-Length")
    split = int(header_length)
    try:
        header = json.loads(body[:split])
    except ValueError:
        raise InvalidInput("body: the JSON header is not valid JSON in UTF-8", field="body") from None
    inputs = header.get("inputs") if isinstance(header, dict) else None
    binary, offset = body[split:], 0
    for i, tensor in enumerate(inputs if isinstance(inputs, list) else []):
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        size = parameters.pop("binary_data_size", None) if isinstance(parameters, dict) else None
        if size is None:
            continue
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise InvalidInput(f"inputs[{i}].parameters.binary_data_size: {size!r} does not fit the "
                               f"{len(binary) - offset} bytes left", field=f"inputs[{i}].parameters")
        if tensor.get("datatype") != "BYTES":
            raise InvalidInput(f"inputs[{i}].datatype: binary data is read for BYTES inputs only",
                               field=f"inputs[{i}].datatype")
        tensor["data"] = _bytes_elements(binary[offset: offset + size], str(tensor.get("name", f"inputs[{i}]")))
        offset += size
    if offset != len(binary):
        raise InvalidInput(f"body: {len(binary) - offset} bytes of binary data that no input's "
                           "binary_data_size claims", field="body")
    return json.dumps(header).encode()


class ProtocolBodyMiddleware:
    """POST /v2/models/{name}/infer: the body as plain JSON, whatever the client sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not (
                path.startswith("/v2/models/") and path.endswith("/infer")):
            await self.app(scope, receive, send)
            return
        try:
            body, _ = await read_body(receive)
            header_length = dict(scope["headers"]).get(HEADER_LENGTH)
            if header_length is not None:
                body = binary_to_json(body, header_length)
        except ServiceError as exc:
            await error_response(exc, path)(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"]
                   if k not in (b"content-type", b"content-length", HEADER_LENGTH)]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope["headers"] = headers  # in place: outer middleware reads what the router adds (route)
        await self.app(scope, replay(body, receive), send)
