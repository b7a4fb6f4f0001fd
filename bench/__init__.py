"""Benchmarks (not tests), in rooms: `harness` (the server launcher, the HTTP client and the
results writer they share), `loadgen`, `serving`, `peers`, `distill` and `gpu`. Each script runs
from the repository root as `python -m bench.<room>.<script>`."""
