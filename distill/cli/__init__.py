"""The `distill` command line: `app` holds the commands (`commands`, `default`), `options` the
option declarations they share, `common` their error handling, summary and export call."""

from distill.cli.app import app, main

__all__ = ["app", "main"]
