"""The Open Inference Protocol (KServe v2 REST), spoken by Triton, KServe, Seldon MLServer and
OpenVINO Model Server: `protocol` (its JSON bodies), `tensors` (reading input tensors, writing
output tensors), `tasks` (which tensors each task takes and gives), `routes` (the endpoints, on the
same batchers, limits, auth and metrics as /v1)."""
