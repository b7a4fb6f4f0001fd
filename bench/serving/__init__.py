"""Benchmarks of the service under load: against a naive server, its options side by side, long
question-answering requests, robustness runs, and the entity F1 it serves."""
