"""HTTP routes. `dependencies` (the service state, the API key, documented errors) and `task_call`
(a request's items through the batcher, the `Call` a serving task gets) serve every route module;
`v1` and `models` are the /v1 API and the operations routes, `open_inference` the Open Inference
Protocol (/v2), `framework_bypass` the short road of the busiest /v1 requests past FastAPI."""
