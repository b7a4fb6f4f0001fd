"""A LitServe server for a distilserve text-classification model folder (a peer in bench/peers/classification.py).

Written the way LitServe's batching guide lays an API out: requests are decoded one by one,
gathered by LitServe into batches of up to 32 (waiting at most 5 ms for a batch to fill), turned
into one padded tensor by `batch`, run by `predict`, split again by `unbatch` and encoded one by
one. The model is the same ONNX file the service serves (ONNX Runtime, CPU) and its
`tokenizer.json` (the `tokenizers` library); the answer is the top label and its softmax score.

Runs in its own virtual environment (litserve, onnxruntime, tokenizers, numpy; no torch, and
nothing from this repository):

    python bench/peers/apps/litserve_app.py --model-folder models/sentiment \
        --onnx-file model.int8.onnx --port 8001

    curl -s localhost:8001/predict -H 'content-type: application/json' \
         -d '{"inputs": "a gorgeous, witty film"}'
    # {"label":"positive","score":0.97...}
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import litserve as ls
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MAX_BATCH_SIZE = 32
BATCH_TIMEOUT_S = 0.005


def load_tokenizer(path: Path, max_seq_len: int) -> Tokenizer:
    """The folder's tokenizer, truncating to the model's length and padding a batch to its longest text."""
    tokenizer = Tokenizer.from_file(str(path))
    pad_id = tokenizer.token_to_id("[PAD]")
    pad_id = 0 if pad_id is None else pad_id
    tokenizer.enable_truncation(max_length=max_seq_len)
    tokenizer.enable_padding(pad_id=pad_id, pad_token=tokenizer.id_to_token(pad_id) or "[PAD]")
    return tokenizer


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class SentimentAPI(ls.LitAPI):
    """POST /predict {"inputs": "text"} -> {"label": ..., "score": ...}."""

    def __init__(self, folder: Path, onnx_file: str) -> None:
        super().__init__(max_batch_size=MAX_BATCH_SIZE, batch_timeout=BATCH_TIMEOUT_S)
        self.folder = folder
        self.onnx_file = onnx_file

    def setup(self, device: str) -> None:
        manifest = json.loads((self.folder / "manifest.json").read_text())
        self.labels: list[str] = manifest["labels"]
        self.tokenizer = load_tokenizer(self.folder / manifest.get("tokenizer", "tokenizer.json"),
                                        manifest["max_seq_len"])
        self.session = ort.InferenceSession(str(self.folder / self.onnx_file),
                                            providers=["CPUExecutionProvider"])
        self.output = manifest.get("outputs", ["logits"])[0]

    # decode_request's parameter and encode_response's return stay unannotated: LitServe turns
    # those annotations into the endpoint's request and response schema (plain JSON here).
    def decode_request(self, request):  # noqa: ANN001, ANN201
        return request["inputs"]

    def batch(self, inputs: list[str]) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch(inputs)
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}

    def predict(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        logits = self.session.run([self.output], feeds)[0]
        return softmax(np.asarray(logits, dtype=np.float32))

    def unbatch(self, output: np.ndarray) -> list[np.ndarray]:
        return list(output)

    def encode_response(self, probabilities: np.ndarray):  # noqa: ANN201
        best = int(probabilities.argmax())
        return {"label": self.labels[best], "score": float(probabilities[best])}


def main() -> None:
    parser = argparse.ArgumentParser(description="LitServe server for a distilserve classifier folder.")
    parser.add_argument("--model-folder", type=Path, required=True, help="Folder with manifest.json.")
    parser.add_argument("--onnx-file", required=True, help="ONNX file in the folder to serve.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    api = SentimentAPI(args.model_folder.resolve(), args.onnx_file)
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1, timeout=60)
    server.run(host=args.host, port=args.port, num_api_servers=1, log_level="warning",
               generate_client_file=False)


if __name__ == "__main__":
    main()
