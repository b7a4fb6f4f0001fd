"""Benchmarks for a CUDA host: the serving check, IO binding and shapes, distillation."""
