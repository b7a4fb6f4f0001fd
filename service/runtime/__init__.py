"""Models at run time: one loaded model (`model`), loading a model folder with its start-up checks
(`loading`; the checks' rules are the contract's, in `modelfolder.variants` and `modelfolder.sample`)
and the running service's models, batchers and readiness (`state`)."""
