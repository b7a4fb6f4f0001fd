"""Extractive question answering as a `distill` task: SQuAD-format data in overlapping windows."""
