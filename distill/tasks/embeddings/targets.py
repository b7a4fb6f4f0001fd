"""The teacher's sentence embeddings of the training sentences, computed once and kept on disk.

The teacher is frozen, so its embedding of a sentence never changes: it is computed once over the
transfer corpus (sentences sorted by length, so batches carry little padding) into a memory-mapped
float16 array (`NAME-KEY.npy`, `NAME-KEY.json` beside it saying what it holds), and every training
step then reads its targets from there and runs only the student. KEY is a fingerprint of the
teacher's weights, the tokenizer's vocabulary size, the sentences (in order), the maximum length and
the pooling, so a changed corpus or teacher gives a new file, never a stale one. The array is
written under a temporary name and renamed when complete: a killed run leaves no file that a later
run would take for a finished one.

`StoredTargets` answers the trainer's cache questions (`distill.teacher_cache`): every training
example is there, so the teacher's forward pass is never run. It serves the sentence embeddings
only, not hidden states (the hidden-state term needs the teacher's forward pass).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from distill.data import DataError

DTYPE = np.float16  # unit-length embeddings: float16 keeps about 3 significant digits, half the disk of float32
SORT_BATCH = 64  # sentences per teacher forward pass when filling the store


def fingerprint(teacher, tokenizer, sentences: list[str], max_seq_len: int) -> str:
    """sha256 over the teacher's weights, its pooling, the vocabulary size, the maximum length and
    the sentences in order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(teacher.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().float().numpy().tobytes())
    settings = {"pooling": [teacher.pooling.mode, teacher.pooling.normalize], "vocab": len(tokenizer),
                "max_seq_len": max_seq_len, "sentences": len(sentences)}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for sentence in sentences:
        digest.update(sentence.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def safe_name(teacher_name: str) -> str:
    """A teacher name or path as a file-name part: `minilm`, `models-my-teacher`."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", str(teacher_name)).strip("-.") or "teacher"


def store_paths(folder: Path, teacher_name: str, key: str) -> tuple[Path, Path]:
    stem = f"{safe_name(teacher_name)}-{key[:16]}"
    return folder / f"{stem}.npy", folder / f"{stem}.json"


def open_store(array_path: Path, meta_path: Path, teacher_name: str, key: str, rows: int) -> np.ndarray | None:
    """The finished store at `array_path` (memory-mapped, read-only), None when there is none; one
    made by another teacher, or for other sentences, is an error naming it."""
    if not array_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        raise DataError(f"teacher embedding cache {array_path}: its description {meta_path.name} is missing or "
                        "unreadable; delete the cache file to compute it again") from None
    if meta.get("fingerprint") != key:
        raise DataError(f"teacher embedding cache {array_path} was made by teacher {meta.get('teacher')!r} for other "
                        f"sentences or weights (fingerprint {str(meta.get('fingerprint'))[:16]}), not by "
                        f"{teacher_name!r} for this corpus; delete it or use another cache folder")
    array = np.load(array_path, mmap_mode="r")
    if array.shape[0] != rows:
        raise DataError(f"teacher embedding cache {array_path} holds {array.shape[0]} rows, not {rows}")
    return array


def _lengths(tokenizer, sentences: list[str], max_seq_len: int) -> np.ndarray:
    encoded = tokenizer(sentences, truncation=True, max_length=max_seq_len)["input_ids"]
    return np.asarray([len(ids) for ids in encoded])


def compute_embeddings(teacher, tokenizer, sentences: list[str], max_seq_len: int, out: np.ndarray,
                       batch_size: int = SORT_BATCH, progress: bool = True) -> None:
    """Fill `out` (rows in the order of `sentences`) with the teacher's embeddings, the sentences
    taken shortest first in batches of `batch_size`."""
    from tqdm.auto import tqdm

    order = np.argsort(_lengths(tokenizer, sentences, max_seq_len), kind="stable")
    device = next(teacher.parameters()).device
    teacher.eval()
    with torch.inference_mode():
        for start in tqdm(range(0, len(order), batch_size), desc="teacher embeddings", unit="batch",
                          disable=not progress):
            rows = order[start:start + batch_size]
            batch = tokenizer([sentences[i] for i in rows], truncation=True, max_length=max_seq_len,
                              padding=True, return_tensors="pt")
            embedding = teacher(input_ids=batch["input_ids"].to(device),
                                attention_mask=batch["attention_mask"].to(device)).embedding
            out[rows] = embedding.float().cpu().numpy().astype(out.dtype)


def teacher_embeddings(teacher, teacher_name: str, tokenizer, sentences: list[str], max_seq_len: int,
                       folder: Path, say=print) -> np.ndarray:
    """The teacher's embeddings of `sentences` from the store in `folder`, computed and stored
    first when it has none for this teacher, corpus, length and pooling."""
    folder = Path(folder)
    key = fingerprint(teacher, tokenizer, sentences, max_seq_len)
    array_path, meta_path = store_paths(folder, teacher_name, key)
    found = open_store(array_path, meta_path, teacher_name, key, len(sentences))
    if found is not None:
        say(f"teacher embeddings of {len(sentences):,} sentences read from {array_path}")
        return found
    folder.mkdir(parents=True, exist_ok=True)
    say(f"computing the teacher's embeddings of {len(sentences):,} sentences into {array_path}")
    partial = array_path.with_name(f"{array_path.stem}.{os.getpid()}.partial.npy")
    dim = int(teacher.config.hidden_size)
    try:
        start = time.perf_counter()
        out = np.lib.format.open_memmap(partial, mode="w+", dtype=DTYPE, shape=(len(sentences), dim))
        compute_embeddings(teacher, tokenizer, sentences, max_seq_len, out)
        out.flush()
        del out
        meta_path.write_text(json.dumps({"teacher": teacher_name, "fingerprint": key, "rows": len(sentences),
                                         "dimension": dim, "dtype": np.dtype(DTYPE).name,
                                         "max_seq_len": max_seq_len,
                                         "seconds": round(time.perf_counter() - start, 1)}, indent=1))
        os.replace(partial, array_path)  # the commit point: the array exists only when complete
    finally:
        partial.unlink(missing_ok=True)
    return np.load(array_path, mmap_mode="r")


class StoredTargets:
    """The trainer's teacher cache (`get`/`put`, as `distill.teacher_cache.TeacherCache`) answered
    from stored sentence embeddings: row i is the teacher's embedding of training example i."""

    def __init__(self, embeddings: np.ndarray):
        self.embeddings = embeddings
        self.hidden_layers: list[int] = []
        self.hits = self.misses = 0

    def put(self, indices, output, attention_mask) -> None:  # every example is stored already
        return None

    def get(self, indices: torch.Tensor, attention_mask: torch.Tensor, layers: int):
        rows = indices.cpu().numpy()
        self.hits += len(rows)
        embedding = torch.from_numpy(np.asarray(self.embeddings[rows], dtype=np.float32))
        return SimpleNamespace(embedding=embedding.to(attention_mask.device), hidden_states=None)
