"""The page's HTML and its static files, read from this package's data when the app is built."""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import resources
from string import Template

STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# The page loads nothing from elsewhere; images of the model card are blob: URLs of fetched files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class PageOptions:
    """What the page is told by the server (see Settings)."""

    needs_api_key: bool
    refresh_s: float


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


def _package_dir(name: str):
    return resources.files("service.web").joinpath(name)


def load_assets() -> dict[str, Asset]:
    """Every file of static/ by its name (the only names the static route answers)."""
    assets = {}
    for entry in _package_dir("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in STATIC_TYPES:
            assets[entry.name] = Asset(entry.read_bytes(), STATIC_TYPES[suffix])
    return assets


def render_page(options: PageOptions) -> str:
    template = Template(_package_dir("templates").joinpath("index.html").read_text(encoding="utf-8"))
    return template.substitute(
        auth="required" if options.needs_api_key else "none",
        refresh_ms=html.escape(str(int(options.refresh_s * 1000))),
    )
