"""The page's files ship with the package: pyproject's package-data covers every one of them, so
an installed (non-editable) package serves the same page."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from service.web.page import load_assets
from tests.deploy.test_dockerfile import PYPROJECT

WEB = Path(__file__).resolve().parents[3] / "service" / "web"


def test_every_template_and_static_file_is_package_data():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["service.web"]
    files = [p.relative_to(WEB).as_posix() for folder in ("templates", "static") for p in (WEB / folder).iterdir()]
    assert "templates/index.html" in files and "static/app.js" in files
    for name in files:
        assert any(fnmatch(name, pattern) for pattern in patterns), f"{name} is not package data"


def test_every_static_file_is_served():
    assert sorted(load_assets()) == sorted(p.name for p in (WEB / "static").iterdir())
