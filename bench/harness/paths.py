"""Where things are: the repository the benchmarks run from, and the shared data beside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository (bench/harness/paths.py -> ..)
SHARED_DATA = ROOT.parent / "shared" / "data"  # the data sets, beside the checkout
