"""`serve --workers N`: HTTP workers in front, one model process per device behind them.

The HTTP workers parse, validate and tokenize in parallel; the model process owns the ONNX Runtime
sessions and the batchers, so the batch policy runs over every worker's items and the device holds
one copy of each model. They meet in shared memory (`ring`, `frames`), woken by one doorbell per
flush over a Unix socket (`connection`; its ends: `worker_end` in each worker, `model_end` in the
model process). `supervisor` starts and stops both and decides what happens
when the model process dies.
"""
