"""The OpenAPI document with this server's own limits: they are settings, so the request models
cannot carry them, and without them the document would call requests valid that the server
refuses (a 65th text, a context over the limit). Each endpoint of the serving tasks lists its own
(`service.tasks.base.Limit`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.settings import Settings
from service.tasks.registry import endpoints


def _branch(node: dict[str, Any], where: str) -> dict[str, Any]:
    """The sub-schema of `node` of JSON type `where` ("array[]string": the string branch of the
    items of the array branch)."""
    kind, _, inner = where.partition("[]")
    branches = [node, *node.get("oneOf", []), *node.get("anyOf", [])]
    (found,) = [b for b in branches if b.get("type") == kind]
    return _branch(found["items"], inner) if inner else found


def with_limits(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    for endpoint, _ in endpoints():
        for limit in endpoint.limits:
            node = _branch(schemas[limit.schema]["properties"][limit.prop], limit.where)
            node[limit.keyword] = getattr(settings, limit.setting)
    return document


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Make app.openapi() return the document with the limits of `settings`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_limits(build(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
