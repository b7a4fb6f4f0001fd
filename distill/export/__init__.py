"""`distill export`: a student checkpoint -> a validated ONNX model folder.

`folder` orchestrates (`export_model_folder`, `ExportConfig` from `config`); `graph` makes the ONNX
files, `variants` builds and checks fp32 / INT8 / fp16 against the PyTorch reference (`parity`),
`inputs` batches the validation examples, `chain` and `report` measure and report the whole chain.
"""
