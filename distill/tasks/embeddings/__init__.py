"""Sentence embeddings (`feature-extraction`) as a `distill` task: a student distilled on raw
sentences to reproduce the teacher's pooled, normalised sentence embeddings."""
