"""Regression as a `distill` task: one score per text or text pair (STS-B similarity)."""
