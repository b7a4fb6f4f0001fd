"""Models at run time: one loaded model (`model`), loading a model folder with its start-up checks
(`loading`, `variant_check`, `validation_sample`) and the running service's models, batchers and
readiness (`state`)."""
