"""HTTP routes. `plumbing` holds what every route module shares (state, auth, submitting to a
batcher); `classify`, `answer` and `models` are the /v1 API and the operations routes; the Open
Inference Protocol (/v2) lives in `service.v2` on the same plumbing."""
