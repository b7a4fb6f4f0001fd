"""The building blocks of `distill export`, which each task's export assembles and
`distill.folder_export` runs: `config` (what is asked), `graph`, `variants` and `parity` make and check
the ONNX files, `inputs` pads the validation batches, `chain` measures teacher, student and variants
in one run and `chain_report` puts them into the run's report."""
