"""The tasks `distill` knows, one sub-package each, found by name through `registry`; the hooks
every task implements are listed in `distill.task_protocol.Task`."""
