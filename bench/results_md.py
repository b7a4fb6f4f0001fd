"""docs/RESULTS.md sections: each benchmark owns one `## ` section, replaced in place on a re-run
(up to the next `## ` heading) or appended, every other section kept as it is."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "RESULTS.md"


def write_section(heading: str, text: str, results: Path = RESULTS) -> None:
    """Put `text` (which starts with `heading`) into `results` in place of the old section."""
    current = results.read_text(encoding="utf-8") if results.exists() else "# Results\n"
    pattern = re.compile(re.escape(heading) + r".*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        current = pattern.sub(lambda _: text + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(current, encoding="utf-8")
