"""Per-task pieces (features, metrics) of the distillation pipeline."""
