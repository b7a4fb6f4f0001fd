"""One model at run time, whatever its task: `model` (ModelRuntime: tokenizers, ONNX Runtime
session, `run`), `build` (a checked model folder -> its runtime: variant choice, sessions, the
capacity and start-up checks, with the rules its task hands in), `runners` (how many batches run at
once) and `file_permissions` (the repository readable by the server's user)."""
