"""text-embeddings-inference's HTTP API on the served models: its request and response bodies
(`schemas`), `GET /info` (`info`) and the work behind its routes on a model's `Call` (`run`). The
routes are in `service.routes.tei` (and the HF Inference API's `POST /models/{name}`, which answers
embedding models with TEI's /embed and /similarity, in `service.routes.inference_api`); errors take
TEI's body and statuses in `service.errors`."""
