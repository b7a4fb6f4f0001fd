"""Embeddings into the answer's shapes: pure functions of arrays, testable without a model.

`encoding_format` "base64" is the vector's float32 bytes in little-endian order, base64-encoded:
what OpenAI's clients decode (`numpy.frombuffer(base64.b64decode(s), dtype="float32")`).
"""

from __future__ import annotations

import base64

import numpy as np
import orjson

from modelfolder.manifest import Manifest
from service.errors import InvalidInput
from service.tasks.base import EncodedJSON
from service.tasks.embeddings.schemas import EncodingFormat

LITTLE_ENDIAN_FLOAT32 = np.dtype("<f4")


def encode_vector(vector: np.ndarray, encoding_format: EncodingFormat) -> np.ndarray | str:
    """One embedding as float32 numbers (an array `encode_answer` writes as a JSON list) or as
    base64 of its little-endian float32 bytes."""
    values = np.asarray(vector, dtype=LITTLE_ENDIAN_FLOAT32)
    if encoding_format == "base64":
        return base64.b64encode(values.tobytes()).decode("ascii")
    return values


def decode_vector(text: str) -> np.ndarray:
    """The inverse of `encode_vector(..., "base64")`."""
    return np.frombuffer(base64.b64decode(text), dtype=LITTLE_ENDIAN_FLOAT32)


def embedding_list(vectors: list[np.ndarray], encoding_format: EncodingFormat, model: str, tokens: int) -> dict:
    """The /v1/embeddings answer: one `{object, index, embedding}` per vector, in order, and the usage."""
    data = [{"object": "embedding", "index": i, "embedding": encode_vector(v, encoding_format)}
            for i, v in enumerate(vectors)]
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def encode_answer(answer: dict) -> EncodedJSON:
    """The answer as JSON: each float32 number in its shortest form that reads back to the same
    float32 (`0.012345679`, not the 17 digits of its float64 value)."""
    return EncodedJSON(orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY))


def model_dimension(manifest: Manifest) -> int | None:
    """The length of the model's embeddings, from its manifest's `embedding` block (None: not said)."""
    return manifest.embedding.dimension if manifest.embedding is not None else None


def check_dimensions(requested: int | None, dimension: int | None) -> None:
    """422 for a `dimensions` other than the model's: its vectors are not trained to be cut shorter."""
    if requested is not None and dimension is not None and requested != dimension:
        raise InvalidInput(f"dimensions: the model's embeddings have {dimension} dimensions and are not "
                           f"shortened; send {dimension} or leave it out", field="dimensions")
