"""The GLUE table: `python -m bench.distill.glue`."""
