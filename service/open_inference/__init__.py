"""The Open Inference Protocol (KServe v2 REST), spoken by Triton, KServe, Seldon MLServer and
OpenVINO Model Server, as a low layer the serving tasks read: `protocol` (its JSON bodies),
`tensors` (reading input tensors, a task's parameters) and `binary` (the binary tensor data
extension, turned into JSON before FastAPI reads a body). Its routes, on the same batchers,
limits, auth and metrics as /v1, are `service.routes.open_inference`; each model's tensors are its
serving task's (`service.tasks`)."""
