"""The routes' FastAPI dependencies -- the service state, the API-key check -- and the error
responses they document."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.errors import Unauthorized
from service.routes.schemas import ErrorBody
from service.serving.state import ServiceState


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in its thread
# pool, two thread hops per request that cost more than the work they do.
async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]
bearer = HTTPBearer(auto_error=False, description="Needed when the server has an API key.")


async def require_api_key(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    key = state.settings.api_key
    if key is None:
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise Unauthorized("missing or wrong API key (send 'Authorization: Bearer <key>')")


def error_responses(*codes: int, model: type = ErrorBody) -> dict:
    """OpenAPI `responses` entries for these error statuses, all with the error body `model`."""
    return {code: {"model": model} for code in codes}


INFERENCE_ERRORS = error_responses(404, 413, 422, 429, 500, 503, 504)
