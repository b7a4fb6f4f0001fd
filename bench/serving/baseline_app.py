"""The naive baseline for bench/serving/load.py: the PyTorch teacher behind a transformers pipeline.

One request at a time (a lock around the pipeline), no batching, no ONNX: what a first FastAPI
wrapper around `pipeline("text-classification")` looks like. Same request and response shape as
the service's /v1/sentiment, so one load script drives both.

    python -m bench.baseline_app --teacher-dir runs/x/teacher --port 8100
"""

from __future__ import annotations

import argparse
import threading

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class Body(BaseModel):
    inputs: str | list[str]
    top_k: int | None = 1
    truncation: bool = True


def create_baseline_app(teacher_dir: str, threads: int | None = None) -> FastAPI:
    import torch
    from transformers import pipeline

    if threads:
        torch.set_num_threads(threads)
    classifier = pipeline("text-classification", model=teacher_dir, device="cpu")
    lock = threading.Lock()
    app = FastAPI(title="baseline: transformers pipeline, one request at a time")

    @app.post("/v1/sentiment")
    def sentiment(body: Body):  # sync: runs in the threadpool; the lock serialises the model
        with lock, torch.inference_mode():
            return classifier(body.inputs, top_k=body.top_k, truncation=body.truncation)

    @app.get("/readyz")
    def readyz():
        return {"status": "ready"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher-dir", required=True, help="Fine-tuned PyTorch teacher checkpoint.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads.")
    args = parser.parse_args()
    app = create_baseline_app(args.teacher_dir, args.threads)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
