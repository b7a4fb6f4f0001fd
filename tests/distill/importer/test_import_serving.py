"""Imported tiny checkpoints served by the service answer as transformers' own pipelines do on the
same texts: classification scores within 1e-4, the same QA answers and character spans as the
model's own best span (transformers 5 has no question-answering pipeline), shown by the contract's
rule, the same
entities for each aggregation strategy, embeddings at cosine >= 0.9999 to the mean-pooled output."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from distill.importer.import_checkpoint import ImportConfig, import_checkpoint
from distill.importer.samples import QA_PROBES
from modelfolder.spans import answer_bounds
from tests.distill.importer.checkpoints import write_checkpoint
from tests.service.conftest import serving

FAMILIES = ["bert", "distilbert", "roberta", "xlm-roberta"]
CASES = [(family, head) for family in FAMILIES for head in ("classification", "qa", "tokens", "encoder")]
TEXTS = ["a wonderful and moving film", "the acting is terrible , and the story is bad", "Ada lives in Lisbon"]


def name_of(family: str, head: str) -> str:
    return f"{family}-{head}"


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, Path]:
    """(checkpoints, repository): each case's checkpoint and its imported fp32 model folder."""
    root = tmp_path_factory.mktemp("import")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for family, head in CASES:
            name = name_of(family, head)
            write_checkpoint(root / "checkpoints" / name, family, head)
            import_checkpoint(ImportConfig(str(root / "checkpoints" / name), root / "models" / name,
                                           variants=("fp32",), latency=None, sample_size=24))
    return root / "checkpoints", root / "models"


@pytest.fixture(scope="module")
def client(imported):
    with serving(imported[1]) as c:
        yield c


def post(client, path: str, body: dict):
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("family", FAMILIES)
def test_classification_scores_match_the_pipeline(imported, client, family):
    from transformers import pipeline

    name = name_of(family, "classification")
    expected = pipeline("text-classification", model=str(imported[0] / name), top_k=None)(TEXTS)
    served = post(client, "/v1/classify", {"model": name, "inputs": TEXTS, "top_k": None})
    for want, got in zip(expected, served):
        want, got = sorted(want, key=lambda s: s["label"]), sorted(got, key=lambda s: s["label"])
        assert [s["label"] for s in want] == [s["label"] for s in got]
        assert np.allclose([s["score"] for s in want], [s["score"] for s in got], atol=1e-4)


def best_span(folder: str, question: str, context: str, max_answer_len: int = 15) -> tuple[str, int, int]:
    """transformers' model and tokenizer (token types included) on one window: the context span
    with the highest start + end logit, at most `max_answer_len` tokens, as characters shown under
    the contract's rule (`modelfolder.spans`: a span that cuts a word shows the whole word)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForQuestionAnswering.from_pretrained(folder).eval()
    encoded = tokenizer(question, context, return_offsets_mapping=True, return_tensors="pt")
    offsets, segments = encoded.pop("offset_mapping")[0].tolist(), encoded.sequence_ids(0)
    with torch.inference_mode():
        out = model(**encoded)
    start, end = out.start_logits[0].tolist(), out.end_logits[0].tolist()
    inside = [i for i, segment in enumerate(segments) if segment == 1]
    s, e = max(((s, e) for s in inside for e in inside if s <= e < s + max_answer_len),
               key=lambda span: start[span[0]] + end[span[1]])
    first, last = answer_bounds(context, offsets[s][0], offsets[e][1])
    return context[first:last], first, last


@pytest.mark.parametrize("family", FAMILIES)
def test_answers_and_spans_match_the_model(imported, client, family):
    name = name_of(family, "qa")
    for question, context, _ in QA_PROBES:
        want = best_span(str(imported[0] / name), question, context)
        got = post(client, "/v1/qa", {"model": name, "question": question, "context": context})
        assert (got["answer"], got["start"], got["end"]) == want


# For a vocabulary without a continuing-subword prefix (byte-level BPE, SentencePiece) the pipeline
# finds words by a spacing rule that makes a lone space token ("\u0120", "\u2581", which small
# vocabularies produce before rare words) a word of its own: an entity with an empty span. The
# service groups the tokens of each word the tokenizer reports (`word_ids`), so the lone space joins
# the word after it. Word-level strategies then differ; "none" and "simple" do not group words.
LONE_SPACE_WORDS = pytest.mark.xfail(reason="word grouping: the service follows the tokenizer's words; the "
                                     "pipeline's spacing rule makes a lone space token a word", strict=True)
WORD_STRATEGIES = ("first", "average", "max")


@pytest.mark.parametrize("family, strategy", [
    *[(family, strategy) for family in FAMILIES for strategy in ("none", "simple")],
    *[(family, strategy) for family in ("bert", "distilbert") for strategy in WORD_STRATEGIES],
    *[pytest.param(family, strategy, marks=LONE_SPACE_WORDS) for family in ("roberta", "xlm-roberta")
      for strategy in WORD_STRATEGIES],
])
def test_entities_match_the_pipeline(imported, client, family, strategy):
    from transformers import pipeline

    name = name_of(family, "tokens")
    tagger = pipeline("token-classification", model=str(imported[0] / name), aggregation_strategy=strategy)
    key = "entity" if strategy == "none" else "entity_group"
    for text in TEXTS:
        want = [(e[key], e["start"], e["end"]) for e in tagger(text)]
        got = post(client, "/v1/token-classification", {"model": name, "inputs": text, "aggregation_strategy": strategy})
        assert [(e[key], e["start"], e["end"]) for e in got] == want


@pytest.mark.parametrize("family", FAMILIES)
def test_embeddings_match_the_mean_pooled_encoder(imported, client, family):
    import torch
    from transformers import AutoModel, AutoTokenizer

    name = name_of(family, "encoder")
    folder = str(imported[0] / name)
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    served = post(client, "/v1/embeddings", {"model": name, "input": TEXTS})["data"]
    for text, row in zip(TEXTS, served):
        with torch.inference_mode():
            states = model(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
        want = states.mean(dim=0).numpy()
        got = np.asarray(row["embedding"], dtype=np.float32)
        assert float(want @ got / np.linalg.norm(want) / np.linalg.norm(got)) >= 0.9999
