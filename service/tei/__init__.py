"""text-embeddings-inference's HTTP API on the served models: its request and response bodies
(`schemas`), `GET /info` (`info`) and the work behind its routes on a model's `Call` (`run`), and
the HF Inference API's `POST /models/{name}` (`inference_api`). The routes are in
`service.routes.tei`; errors take TEI's body and statuses in `service.errors`."""
