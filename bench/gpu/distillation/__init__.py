"""Distillation on a GPU host: `python -m bench.gpu.distillation` (stages, report, travel bundle)."""
