"""/v1/classify with text pairs and with a regression model; /v1/models' pairs and regression flags."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from tests.service.conftest import serving
from tests.service.model_folders import PAIR_LABELS, build_pair_repository

PAIRS = [
    {"text": "a wonderful film", "text_pair": "the best movie of the year"},
    {"text": "i hated every minute of it", "text_pair": "a dull and boring film , bad music and annoying characters"},
    {"text": "superb", "text_pair": "awful"},
]


@pytest.fixture(scope="module")
def pair_repository(tmp_path_factory) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_pair_repository(tmp_path_factory.mktemp("pairs"))


@pytest.fixture(scope="module")
def client(pair_repository):
    with serving(pair_repository) as c:
        yield c


def raw_outputs(folder: Path, pairs: list[dict]) -> np.ndarray:
    """The model's outputs for each pair, one at a time: [CLS] text [SEP] text_pair [SEP], no padding."""
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    rows = []
    for pair in pairs:
        ids = np.asarray([tokenizer.encode(pair["text"], pair["text_pair"]).ids], dtype=np.int64)
        rows.append(session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
    return np.asarray(rows)


def test_models_say_which_take_pairs_and_which_regress(client):
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert (models["nli"]["pairs"], models["nli"]["regression"]) == (True, False)
    assert (models["similarity"]["pairs"], models["similarity"]["regression"]) == (True, True)
    assert (models["single"]["pairs"], models["single"]["regression"]) == (False, False)
    assert models["similarity"]["task"] == "regression" and models["similarity"]["labels"] == []


def test_pair_classifier_answers_each_pair_like_the_graph(client, pair_repository):
    response = client.post("/v1/classify", json={"model": "nli", "inputs": PAIRS, "top_k": None})
    assert response.status_code == 200
    answers = response.json()
    assert len(answers) == len(PAIRS) and int(response.headers["X-Batch-Size"]) >= 1
    logits = raw_outputs(pair_repository / "nli", PAIRS)
    for answer, row in zip(answers, logits):
        expected = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
        got = {a["label"]: a["score"] for a in answer}
        assert [got[label] for label in PAIR_LABELS] == pytest.approx(expected.tolist(), abs=1e-5)


def test_one_pair_gets_one_list(client):
    answer = client.post("/v1/classify", json={"model": "nli", "inputs": PAIRS[0]}).json()
    assert isinstance(answer, list) and len(answer) == 1 and answer[0]["label"] in PAIR_LABELS


def test_regressor_answers_a_score_per_input(client, pair_repository):
    expected = raw_outputs(pair_repository / "similarity", PAIRS)[:, 0]
    many = client.post("/v1/classify", json={"model": "similarity", "inputs": PAIRS})
    assert many.status_code == 200
    assert [a["score"] for a in many.json()] == pytest.approx(expected.tolist(), abs=1e-5)
    one = client.post("/v1/classify", json={"model": "similarity", "inputs": PAIRS[1]}).json()
    assert set(one) == {"score"} and one["score"] == pytest.approx(float(expected[1]), abs=1e-5)
    squashed = client.post("/v1/classify", json={"model": "similarity", "inputs": PAIRS[1],
                                                 "function_to_apply": "sigmoid"}).json()
    assert squashed["score"] == pytest.approx(1 / (1 + np.exp(-expected[1])), abs=1e-5)


def test_wrong_shape_for_the_model_is_a_422_saying_what_it_takes(client):
    bare = client.post("/v1/classify", json={"model": "nli", "inputs": "just one text"})
    assert bare.status_code == 422 and "takes text pairs" in bare.json()["error"]["message"]
    mixed = client.post("/v1/classify", json={"model": "similarity", "inputs": [PAIRS[0], "a string"]})
    assert mixed.status_code == 422 and mixed.json()["error"]["field"] == "inputs[1]"
    pair = client.post("/v1/classify", json={"model": "single", "inputs": PAIRS[0]})
    assert pair.status_code == 422 and "takes single texts" in pair.json()["error"]["message"]
    partial = client.post("/v1/classify", json={"model": "nli", "inputs": {"text": "only the first"}})
    assert partial.status_code == 422


def test_long_pairs_are_refused_or_cut_like_texts(client):
    long = {"text": "a wonderful film " * 20, "text_pair": "awful"}
    refused = client.post("/v1/classify", json={"model": "nli", "inputs": [long]})
    assert refused.status_code == 422 and "tokens" in refused.json()["error"]["message"]
    cut = client.post("/v1/classify", json={"model": "nli", "inputs": [long], "truncation": True})
    assert cut.status_code == 200 and len(cut.json()) == 1


def test_batched_pairs_equal_pairs_sent_alone(client):
    together = client.post("/v1/classify", json={"model": "similarity", "inputs": PAIRS}).json()
    alone = [client.post("/v1/classify", json={"model": "similarity", "inputs": p}).json() for p in PAIRS]
    assert [a["score"] for a in together] == pytest.approx([a["score"] for a in alone], abs=1e-5)


def test_truncation_of_a_pair_cuts_the_longer_text(pair_repository):
    from service.serving.loading import load_runtime
    from tests.service.conftest import make_settings

    runtime = load_runtime(pair_repository / "nli", make_settings(pair_repository))
    encoding = runtime.encode([("superb", "a wonderful film " * 20)], truncation=True)[0]
    assert len(encoding.ids) == runtime.max_seq_len
    assert encoding.tokens[:4] == ["[CLS]", "superb", "[SEP]", "a"] and encoding.tokens[-1] == "[SEP]"
