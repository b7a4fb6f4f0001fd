"""The validation sample of a model folder: token ids of validation inputs, one sequence per line.

The export writes it (`write_sample`), so that a variant it could not validate -- fp16 exported on
a machine without a GPU -- can be checked where it runs: the service reads it back (`read_sample`)
and compares that variant with fp32 on it at start-up (`modelfolder.variants`). The sequences are
what the model takes (special tokens included, a question-answering window whole), so the check
needs no tokenizer and no task-specific preparation.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Sequence

from modelfolder.manifest import Manifest, ModelFolderError, SampleFile, sha256_file

SAMPLE_FILE = "validation_sample.jsonl"
SAMPLE_SIZE = 256  # sequences kept: enough to see a 1% disagreement rate, small enough to run in seconds


def write_sample(folder: Path, sequences: Sequence[Sequence[int]], size: int = SAMPLE_SIZE,
                 seed: int = 0) -> SampleFile:
    """Write a seeded sample of `sequences` (all of them when there are fewer than `size`) and
    return its manifest entry."""
    chosen = sample_sequences(sequences, size, seed)
    path = Path(folder) / SAMPLE_FILE
    with open(path, "w") as handle:
        for ids in chosen:
            handle.write(json.dumps({"input_ids": ids}) + "\n")
    return SampleFile(file=SAMPLE_FILE, sha256=sha256_file(path), examples=len(chosen))


def sample_sequences(sequences: Sequence[Sequence[int]], size: int = SAMPLE_SIZE, seed: int = 0) -> list[list[int]]:
    """The seeded sample `write_sample` writes: at most `size` of `sequences`, in their order."""
    if not sequences:
        raise ValueError("a validation sample needs at least one sequence")
    rows = sorted(random.Random(seed).sample(range(len(sequences)), min(size, len(sequences))))
    return [[int(t) for t in sequences[row]] for row in rows]


def read_sample(folder: Path, manifest: Manifest) -> list[list[int]] | None:
    """The folder's sample sequences; None when the folder carries none (exported before it was
    written). A sample that cannot be read raises ModelFolderError naming the file and line."""
    entry = manifest.validation_sample
    if entry is None:
        return None
    path = Path(folder) / entry.file
    sequences: list[list[int]] = []
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ModelFolderError(f"{path}: cannot read the validation sample ({exc})") from exc
    for number, line in enumerate(lines, 1):
        try:
            ids = json.loads(line)["input_ids"]
            if not ids or not all(isinstance(t, int) and t >= 0 for t in ids):
                raise ValueError("input_ids must be a non-empty list of token ids")
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFolderError(f"{path}:{number}: not a validation sample line ({exc})") from exc
        sequences.append(ids)
    if not sequences:
        raise ModelFolderError(f"{path}: the validation sample is empty")
    return sequences
