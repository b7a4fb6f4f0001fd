"""The work behind text-embeddings-inference's routes, on a model's `Call` (the same batcher, limits
and metrics as /v1): texts checked and tokenized as the serving tasks do it, pooled vectors of an
embedding model, every label of a classifier best first, cosine similarities, the tokenizer's
tokens and decoded ids. TEI's own checks come first: an empty list is its 400, more inputs than
the server takes in one request its 413."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from service.batching.batcher import ItemResult
from service.errors import EmptyBatch, InputTooLong, InvalidInput, TokenizerError, TooManyInputs
from service.providers import CUDA
from service.runtime.model import ModelRuntime
from service.tasks.base import Call
from service.tasks.embeddings.vectors import check_dimensions, model_dimension
from service.tasks.scores import apply_function
from service.tasks.text.items import FieldName, Text, characters
from service.tasks.text.run import check_texts, text_sequences


@dataclass
class Meter:
    """What one request cost, for TEI's timing headers."""

    started: float
    tokenization_s: float = 0.0
    characters: int = 0
    tokens: int = 0
    results: tuple[ItemResult, ...] = ()

    def headers(self, provider: str) -> dict[str, str]:
        """TEI's headers, in whole milliseconds as TEI writes them; queue and inference time are the
        mean over the request's inputs, as TEI reports a batch."""
        total = f"{int((time.monotonic() - self.started) * 1000)}"
        count = max(len(self.results), 1)
        queue = sum(r.queue_s for r in self.results) / count
        inference = sum(r.inference_s for r in self.results) / count
        return {"x-compute-type": "gpu" if provider == CUDA else "cpu", "x-compute-time": total,
                "x-compute-characters": str(self.characters), "x-compute-tokens": str(self.tokens),
                "x-total-time": total, "x-tokenization-time": f"{int(self.tokenization_s * 1000)}",
                "x-queue-time": f"{int(queue * 1000)}", "x-inference-time": f"{int(inference * 1000)}"}


def check_batch(count: int, limit: int, whole: str = "inputs") -> None:
    """TEI's checks of a list of inputs: 400 when empty, 413 over the client batch size."""
    if count == 0:
        raise EmptyBatch(f"`{whole}` cannot be empty", field=whole)
    if count > limit:
        raise TooManyInputs(f"batch size {count} > maximum allowed batch size {limit}", field=whole)


def check_prompt(prompt_name: str | None) -> None:
    if prompt_name is not None:
        raise InvalidInput(f"prompt_name: the model has no prompts (asked for {prompt_name!r})", field="prompt_name")


def cut_left(ids: list[int], special: list[int], length: int) -> list[int]:
    """A sequence cut to `length` tokens from its start, keeping its leading and trailing special
    tokens ([CLS] ... [SEP])."""
    lead = next((i for i, s in enumerate(special) if not s), len(ids))
    trail = next((i for i, s in enumerate(reversed(special)) if not s), 0)
    body = ids[lead:len(ids) - trail]
    keep = max(length - lead - trail, 0)
    return ids[:lead] + (body[len(body) - keep:] if keep else []) + ids[len(ids) - trail:]


async def sequences(call: Call, meter: Meter, texts: list[Text], truncate: bool, direction: str,
                    field: FieldName, whole: str = "inputs") -> list[list[int]]:
    """Token ids of the texts, checked as /v1 checks them; a text over the model's length is cut at
    `direction`'s end with `truncate`, else refused (TEI's 413)."""
    started = time.perf_counter()
    meter.characters += sum(map(characters, texts))
    if direction.lower() == "left" and truncate:
        if any(isinstance(t, tuple) for t in texts):
            raise InvalidInput("truncation_direction: Left truncation is for single texts, not pairs",
                               field="truncation_direction")
        check_texts(texts, call.settings, whole, field)
        runtime = call.runtime
        encodings = runtime.encode(texts, False)
        ids = [cut_left(e.ids, e.special_tokens_mask, runtime.max_seq_len) for e in encodings]
    else:
        try:
            ids = await text_sequences(call, texts, truncate, whole, field)
        except InputTooLong as exc:
            raise InputTooLong(exc.message.replace("truncation=true", "truncate=true"), field=exc.field) from None
    meter.tokenization_s += time.perf_counter() - started
    meter.tokens += sum(map(len, ids))
    return ids


async def infer(call: Call, meter: Meter, ids: list[list[int]]) -> list[np.ndarray]:
    results = await call.infer(ids)
    meter.results += tuple(results)
    return [r.output for r in results]


async def embed(call: Call, meter: Meter, texts: list[str], truncate: bool, direction: str,
                normalize: bool | None, dimensions: int | None = None) -> list[np.ndarray]:
    """One pooled vector per text; `normalize` None: as the model's graph gives them."""
    manifest = call.runtime.manifest
    check_dimensions(dimensions, model_dimension(manifest))
    normalized = manifest.embedding.normalize if manifest.embedding is not None else True
    if normalize is False and normalized:
        raise InvalidInput(f"normalize: model {call.runtime.name!r} L2-normalises its embeddings inside its "
                           "graph, so false cannot be honoured; send true or leave it out", field="normalize")
    vectors = await infer(call, meter, await sequences(call, meter, texts, truncate, direction, lambda i: f"inputs[{i}]"))
    if normalize and not normalized:
        vectors = [v / max(float(np.linalg.norm(v)), 1e-12) for v in vectors]
    return vectors


def cosines(source: np.ndarray, others: list[np.ndarray]) -> list[np.float32]:
    """The cosine of `source` with each of `others` (float32, as TEI answers them)."""
    norm = max(float(np.linalg.norm(source)), 1e-12)
    return [np.float32(np.dot(source, o) / (norm * max(float(np.linalg.norm(o)), 1e-12))) for o in others]


def label_names(runtime: ModelRuntime, count: int) -> list[str]:
    labels = runtime.manifest.labels
    return labels if len(labels) == count else [f"LABEL_{i}" for i in range(count)]


def predictions(logits: np.ndarray, labels: list[str], raw_scores: bool) -> list[dict]:
    """Every label with its score, highest first: softmax over the logits, sigmoid of a single
    logit, or the logits themselves with `raw_scores` (as TEI scores them)."""
    function = "none" if raw_scores else ("sigmoid" if len(logits) == 1 else "softmax")
    scores = apply_function(logits, function)
    order = np.argsort(-scores, kind="stable")
    return [{"score": np.float32(scores[i]), "label": labels[i]} for i in order]


def item_texts(items: list[list[str]], pairs: bool, model: str, single: bool) -> list[Text]:
    """TEI's sequences ([text] or [text, text_pair]) as tokenizer inputs, refused when their shape is
    not the model's."""
    texts: list[Text] = []
    for i, item in enumerate(items):
        field = "inputs" if single else f"inputs[{i}]"
        if pairs != (len(item) == 2):
            wanted = '["text", "text_pair"] pairs' if pairs else 'single texts ("text" or ["text"])'
            raise InvalidInput(f"{field}: model {model!r} takes {wanted}", field=field)
        texts.append((item[0], item[1]) if pairs else item[0])
    return texts


async def predict(call: Call, meter: Meter, texts: list[Text], truncate: bool, direction: str,
                  raw_scores: bool) -> list[list[dict]]:
    outputs = await infer(call, meter, await sequences(call, meter, texts, truncate, direction, lambda i: f"inputs[{i}]"))
    return [predictions(o, label_names(call.runtime, len(o)), raw_scores) for o in outputs]


def tokens(runtime: ModelRuntime, texts: list[str], add_special_tokens: bool) -> list[list[dict]]:
    """Each text's tokens: id, the text it covers (character offsets start/stop), special tokens
    with their own text and no offsets."""
    encodings = runtime.tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
    answer = []
    for text, encoding in zip(texts, encodings):
        answer.append([
            {"id": i, "text": token, "special": True, "start": None, "stop": None} if special
            else {"id": i, "text": text[start:stop], "special": False, "start": start, "stop": stop}
            for i, (start, stop), special, token in zip(encoding.ids, encoding.offsets,
                                                         encoding.special_tokens_mask, encoding.tokens)
        ])
    return answer


def decode(runtime: ModelRuntime, rows: list[list[int]], skip_special_tokens: bool, single: bool) -> list[str]:
    vocabulary = runtime.tokenizer.get_vocab_size()
    for r, row in enumerate(rows):
        for i, token in enumerate(row):
            if token >= vocabulary:
                field = f"ids[{i}]" if single else f"ids[{r}][{i}]"
                raise TokenizerError(f"{field}: token id {token} is not in the model's vocabulary of "
                                     f"{vocabulary}", field=field)
    return runtime.tokenizer.decode_batch(rows, skip_special_tokens=skip_special_tokens)
