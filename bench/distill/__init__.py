"""Benchmarks of the offline half: distillation runs per task, GLUE, ablations, the export chain.
Imports of the project's `distill` package are absolute (`from distill.task_pipeline import ...`)."""
