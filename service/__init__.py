"""Online half: serve exported model folders with dynamic batching on ONNX Runtime."""
