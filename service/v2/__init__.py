"""The Open Inference Protocol (KServe v2 REST), spoken by Triton, KServe, Seldon MLServer and
OpenVINO Model Server: `protocol` (its JSON bodies), `tensors` (reading input tensors, writing
output tensors, a task's parameters), `routes` (the endpoints, on the same batchers, limits, auth
and metrics as /v1; each model's tensors are its serving task's, `service.tasks`)."""
