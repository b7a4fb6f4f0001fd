"""Typed service errors and the handlers that turn every failure into a clean JSON body.

Body of every error: {"error": {"status": 422, "type": "invalid_input", "message": "..."}}
(plus "field" when one field is at fault; plus OpenAI's "param" and "code" on /v1/embeddings;
only {"error": "..."} under /v2; text-embeddings-inference's {"error": "...", "error_type": "..."}
on its routes and under /models/, with its statuses). Never a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.request_fields import UNION_TAGS

log = logging.getLogger("service")


class ServiceError(Exception):
    """An error with an HTTP status, a stable type name and a message for the client."""

    status = 500
    type = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}


class InvalidInput(ServiceError):
    status, type = 422, "invalid_input"


class InputTooLong(InvalidInput):
    type = "input_too_long"


class Unauthorized(ServiceError):
    status, type = 401, "unauthorized"


class ModelNotFound(ServiceError):
    status, type = 404, "model_not_found"


class BodyTooLarge(ServiceError):
    status, type = 413, "body_too_large"


class QueueFull(ServiceError):
    status, type = 429, "queue_full"


class NotReady(ServiceError):
    status, type = 503, "not_ready"


class DeadlineExceeded(ServiceError):
    status, type = 504, "deadline_exceeded"


class ShuttingDown(ServiceError):
    status, type = 503, "shutting_down"


class EmptyBatch(ServiceError):
    """An empty list of inputs on a route in text-embeddings-inference's shape (its 400)."""

    status, type = 400, "empty"


class TooManyInputs(ServiceError):
    """More inputs than the server takes in one request, on a route in text-embeddings-inference's
    shape (its 413: "batch size N > maximum allowed batch size M")."""

    status, type = 413, "batch_too_large"


class WrongModelType(ServiceError):
    """A model asked for what its type does not do, on a route in text-embeddings-inference's shape
    (its 424: an embedding request to a classifier, a reranking request to a model that cannot rerank)."""

    status, type = 424, "model_type"


class TokenizerError(InvalidInput):
    type = "tokenizer"


def printable(text: str) -> str:
    """`text` as valid UTF-8: lone surrogates (legal in JSON strings) shown as \\udxxx escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_body(status: int, type_: str, message: str, field: str | None = None) -> dict:
    error = {"status": status, "type": type_, "message": printable(message)}
    if field is not None:
        error["field"] = printable(field)
    return {"error": error}


PROTOCOL_V2 = "/v2"  # the Open Inference Protocol's routes: its own error body
EMBEDDINGS_PATH = "/v1/embeddings"  # the route in the shape of OpenAI's embeddings API
OPENAI_SHAPED = frozenset({EMBEDDINGS_PATH})
# text-embeddings-inference's routes (at the root for the default model, and under /models/{name}/),
# and the HF Inference API's POST /models/{name}: its error body {"error", "error_type"}.
TEI_ROUTES = ("/", "/embed", "/embed_all", "/predict", "/rerank", "/similarity", "/tokenize", "/decode", "/info",
              "/health", "/invocations")
MODELS_PREFIX = "/models/"
# TEI's error types (serialised as its enum's variant names) by status.
TEI_TYPES = {400: "Empty", 413: "Validation", 424: "Backend", 429: "Overloaded", 503: "Unhealthy"}


def tei_shaped(path: str) -> bool:
    return path in TEI_ROUTES or path.startswith(MODELS_PREFIX)


def tei_error(status: int, type_: str) -> tuple[int, str]:
    """TEI's status and error_type for one of this service's errors: a text over the model's length
    is TEI's 413 "Validation", as TEI answers it; a tokenizer failure its 422 "Tokenizer"; a request
    that fails validation 422 "Validation"; every other 5xx "Backend"."""
    if type_ == "input_too_long":
        return 413, "Validation"
    if type_ == "tokenizer":
        return status, "Tokenizer"
    return status, TEI_TYPES.get(status, "Backend" if status >= 500 else "Validation")


def body_for(path: str, status: int, type_: str, message: str, field: str | None = None) -> dict:
    """The error body of the API `path` belongs to: {"error": "message"} under /v2 (the Open
    Inference Protocol's), {"error": {"status", "type", "message", "field"}} everywhere else; on
    the routes in OpenAI's shape also OpenAI's `param` (the field) and `code` (the type), which
    OpenAI's clients read into their exceptions."""
    if path == PROTOCOL_V2 or path.startswith(PROTOCOL_V2 + "/"):
        return {"error": printable(message)}
    body = error_body(status, type_, message, field)
    if path in OPENAI_SHAPED:
        body["error"] |= {"param": body["error"].get("field"), "code": type_}
    return body


def respond(path: str, status: int, type_: str, message: str, field: str | None = None,
            headers: dict | None = None) -> JSONResponse:
    """The error response of the API `path` belongs to (TEI's routes: TEI's status and body)."""
    if tei_shaped(path):
        status, tei_type = tei_error(status, type_)
        return JSONResponse({"error": printable(message), "error_type": tei_type}, status, headers=headers)
    return JSONResponse(body_for(path, status, type_, message, field), status, headers=headers)


def error_response(exc: ServiceError, path: str) -> JSONResponse:
    return respond(path, exc.status, exc.type, exc.message, exc.field, exc.headers)


# Pydantic's messages where they would not tell a client what is wrong.
MESSAGES = {"string_unicode": "not valid UTF-8 text (it holds a lone UTF-16 surrogate)"}


def _field_name(loc: tuple) -> str:
    """("body", "inputs", "texts", 1, "context") -> "inputs[1].context"."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part not in ("body", "query", "path", "header") and part not in UNION_TAGS:
            name += f".{part}" if name else str(part)
    return name or "body"


def _most_specific(errors: list[dict]) -> dict:
    """Of the errors of a union's branches, the one that went deepest (the branch that matched)."""
    return max(errors, key=lambda e: len(e.get("loc", ())), default={"loc": (), "msg": "invalid request"})


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return error_response(exc, request.url.path)


def invalid_input(errors: list) -> InvalidInput:
    """The 422 of a body that failed validation (pydantic's errors), naming its field."""
    first = _most_specific(errors)
    field = _field_name(tuple(first.get("loc", ())))
    fields = {_field_name(tuple(e.get("loc", ()))) for e in errors}
    others = f" (and problems in {len(fields) - 1} more fields)" if len(fields) > 1 else ""
    message = f"{field}: {MESSAGES.get(first.get('type'), first.get('msg', 'invalid value'))}{others}"
    return InvalidInput(message, field=field)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(invalid_input(list(exc.errors())), request.url.path)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's only 400: a body it could not parse (not UTF-8, ...)
        message = "body: cannot be read as JSON text (send UTF-8 encoded JSON)"
        return respond(request.url.path, 422, "invalid_input", message, "body")
    type_ = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        exc.status_code, "http_error"
    )
    return respond(request.url.path, exc.status_code, type_, str(exc.detail), headers=exc.headers)


def internal_error_response(exc: Exception, method: str, path: str) -> JSONResponse:
    log.error("unhandled %s on %s %s: %s", type(exc).__name__, method, path, exc)
    message = f"internal error ({type(exc).__name__}); see the server log"
    return respond(path, 500, "internal_error", message)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return internal_error_response(exc, request.method, request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
