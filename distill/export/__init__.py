"""`distill export`: a student checkpoint -> a validated ONNX model folder (`folder` orchestrates;
`graph`, `variants` and `parity` make and check the ONNX files; `chain` and `report` report them)."""
