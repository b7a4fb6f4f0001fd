"""The results writer of the benchmarks: the raw numbers as JSON, the command that reruns a
benchmark, and its section of docs/RESULTS.md. Each benchmark owns one `## ` section, replaced in
place on a re-run (up to the next `## ` heading) or appended, every other section kept as it is."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

from bench.harness.paths import ROOT

RESULTS = ROOT / "docs" / "RESULTS.md"


def command_line(module: str, argv: list[str] | None = None, python: str = "python") -> str:
    """`python -m <module> <arguments>` quoted for a shell: the command that reruns a benchmark
    (`argv`: its arguments, default those of this process)."""
    arguments = sys.argv[1:] if argv is None else argv
    return " ".join(shlex.quote(a) for a in [python, "-m", module, *arguments])


def write_json(path: Path, value: Any, indent: int = 2) -> None:
    """`value` as indented JSON in `path` (its folder made if missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=indent) + "\n")


def write_section(heading: str, text: str, results: Path = RESULTS) -> None:
    """Put `text` (which starts with `heading`) into `results` in place of the old section."""
    current = results.read_text(encoding="utf-8") if results.exists() else "# Results\n"
    # the heading as a whole line: "## GPU (CUDA)" is not "## GPU (CUDA): reading the runs"
    pattern = re.compile("^" + re.escape(heading) + r"$.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        current = pattern.sub(lambda _: text + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(current, encoding="utf-8")


def publish(heading: str, text: str, results: Path | None, json_path: Path | None = None, value: Any = None,
            indent: int = 2) -> None:
    """The end of a benchmark run: the raw numbers to `json_path`, its section to `results` (each
    when given)."""
    if json_path is not None:
        write_json(json_path, value, indent)
    if results is not None:
        write_section(heading, text, results)
