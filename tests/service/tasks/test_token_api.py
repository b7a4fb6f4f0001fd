"""POST /v1/token-classification and /v2 against real ONNX Runtime sessions: the rule model (the
entities of a text known in advance: see TOKEN_TAGS) with windows of 16 tokens, and a random
DistilBERT exported with torch.onnx."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelfolder.variants import CheckLimits, check_variant
from service.tasks.registry import get_task
from tests.service.conftest import serving
from tests.service.model_folders import TOKEN_LABELS
from tests.service.routes.test_api import error_of

SENTENCE = "Angela Merkel visited Paris"


@pytest.fixture(scope="module")
def token_client(token_repository):
    with serving(token_repository, models=["ner", "ner-random", "sentiment"], token_max_text_chars=2000,
                 token_max_windows=40, max_inputs=4) as c:
        yield c


def tag(client, inputs, model: str = "ner", **options):
    response = client.post("/v1/token-classification", json={"model": model, "inputs": inputs, **options})
    assert response.status_code == 200, response.text
    return response.json()


def spans(found: list[dict]) -> list[tuple]:
    return [(e["entity_group"], e["word"], e["start"], e["end"]) for e in found]


def test_entities_of_one_text_with_offsets(token_client):
    found = tag(token_client, SENTENCE)
    assert spans(found) == [("PER", "Angela Merkel", 0, 13), ("LOC", "Paris", 22, 27)]
    assert all(0.9 < e["score"] <= 1.0 for e in found)
    assert set(found[0]) == {"entity_group", "score", "word", "start", "end"}


@pytest.mark.parametrize("text, expected", [
    ("Grüße an Angela Merkel aus Zürich!", [("PER", "Angela Merkel", 9, 22), ("LOC", "Zürich", 27, 33)]),
    ("😀 🎉 Ada lebt in New York", [("PER", "Ada", 4, 7), ("LOC", "New York", 16, 24)]),
    ("東京 と Paris と Zürichsee", [("LOC", "Paris", 5, 10), ("LOC", "Zürichsee", 13, 22)]),
])
def test_offsets_are_exact_in_non_ascii_text(token_client, text, expected):
    found = tag(token_client, text)
    assert spans(found) == expected
    assert all(text[e["start"]:e["end"]] == e["word"] for e in found)


def test_aggregation_strategies_and_ignore_labels(token_client):
    text = "Ada visited Zürichsee"  # zurich ##s ##e ##e: only the first sub-token is a place
    assert spans(tag(token_client, text, aggregation_strategy="first"))[-1] == ("LOC", "Zürichsee", 12, 21)
    assert spans(tag(token_client, text, aggregation_strategy="max"))[-1] == ("LOC", "Zürichsee", 12, 21)
    assert spans(tag(token_client, text, aggregation_strategy="simple"))[-1] == ("LOC", "Zürich", 12, 18)
    assert spans(tag(token_client, text, aggregation_strategy="average")) == [("PER", "Ada", 0, 3)]
    pieces = tag(token_client, text, aggregation_strategy="none", ignore_labels=[])
    assert [(e["entity"], e["word"], e["index"]) for e in pieces] == [
        ("B-PER", "Ada", 1), ("O", "visited", 2), ("B-LOC", "Zürich", 3), ("O", "s", 4), ("O", "e", 5), ("O", "e", 6)]
    assert [e["entity_group"] for e in tag(token_client, text, ignore_labels=["O", "PER"])] == ["LOC"]


def test_a_list_of_texts_gives_one_list_each_and_an_empty_text_none(token_client):
    found = tag(token_client, [SENTENCE, "", "the city"])
    assert [spans(f) for f in found] == [spans(tag(token_client, SENTENCE)), [], []]


def test_a_long_text_is_windowed_and_every_entity_found_once(token_client):
    part = "Angela Merkel visited Paris and Ada lives in New York . "
    text = part * 6  # 14 tokens a part: 84 in all, windows of 14 content tokens sharing 4
    found = tag(token_client, text)
    expected = []
    for k in range(6):
        base = k * len(part)
        expected += [("PER", "Angela Merkel", base, base + 13), ("LOC", "Paris", base + 22, base + 27),
                     ("PER", "Ada", base + 32, base + 35), ("LOC", "New York", base + 45, base + 53)]
    assert spans(found) == expected
    strided = tag(token_client, text, stride=0)  # no shared tokens: the same entities from other windows
    assert spans(strided) == expected


def test_refusals_name_the_field(token_client):
    post = lambda body: token_client.post("/v1/token-classification", json={"model": "ner", **body})  # noqa: E731
    assert error_of(post({"inputs": SENTENCE, "stride": 14}), 422)["field"] == "stride"
    assert error_of(post({"inputs": "x" * 2001}), 422)["field"] == "inputs"
    assert error_of(post({"inputs": ["a", "b" * 2001]}), 422)["field"] == "inputs[1]"
    assert error_of(post({"inputs": ["a"] * 5}), 422)["field"] == "inputs"
    many = error_of(post({"inputs": "the city " * 200, "stride": 7}), 422)  # 400 tokens, 7 new a window
    assert many["type"] == "input_too_long" and "windows" in many["message"]
    assert error_of(post({"inputs": SENTENCE, "aggregation_strategy": "mean"}), 422)["field"] == "aggregation_strategy"
    assert error_of(post({"inputs": []}), 422)["field"] == "inputs"
    wrong = token_client.post("/v1/token-classification", json={"model": "sentiment", "inputs": SENTENCE})
    assert "not token-classification" in error_of(wrong, 422)["message"]
    unnamed = token_client.post("/v1/token-classification", json={"inputs": SENTENCE})  # two such models
    assert error_of(unnamed, 422)["field"] == "model"
    classify = token_client.post("/v1/classify", json={"model": "ner", "inputs": SENTENCE})
    assert error_of(classify, 422)["field"] == "model"


def test_batches_padded_to_fixed_shapes_give_the_same_entities(token_client):
    text = "Angela Merkel visited Paris and Ada lives in New York . " * 3  # several windows, one batch
    expected = tag(token_client, text, model="ner-random", ignore_labels=[])
    runtime = token_client.app.state.service.models.runtimes["ner-random"]
    runtime.fixed_shapes = True  # as on CUDA: rows to a power of two, lengths to a multiple of 16
    try:
        padded = tag(token_client, text, model="ner-random", ignore_labels=[])
    finally:
        runtime.fixed_shapes = False
    assert [(e["entity_group"], e["start"], e["end"]) for e in padded] == [
        (e["entity_group"], e["start"], e["end"]) for e in expected]
    assert [e["score"] for e in padded] == pytest.approx([e["score"] for e in expected], abs=1e-5)


def test_the_random_model_answers_in_the_pipeline_shape(token_client):
    text = "Angela Merkel visited Paris , " * 8  # longer than its 48 tokens: windows of 46 sharing 8
    for strategy in ("none", "simple", "first", "average", "max"):
        for entity in tag(token_client, text, model="ner-random", aggregation_strategy=strategy, ignore_labels=[]):
            assert text[entity["start"]:entity["end"]] == entity["word"]
            assert 0.0 < entity["score"] <= 1.0
            assert (entity.get("entity") or entity.get("entity_group")).split("-")[-1] in {"O", "PER", "LOC"}


def test_models_listing_and_v2(token_client):
    info = token_client.get("/v1/models/ner").json()
    assert info["task"] == "token-classification" and info["labels"] == TOKEN_LABELS
    assert info["endpoint"] == "/v1/token-classification" and info["form"] == "tokens"
    assert info["token_classification"] == {"label_scheme": "IOB2", "doc_stride": 4}
    meta = token_client.get("/v2/models/ner").json()
    assert [i["name"] for i in meta["inputs"]] == ["text"]
    assert meta["outputs"] == [{"name": "entities", "datatype": "BYTES", "shape": [-1]}]
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": [SENTENCE, "the city"]}],
            "parameters": {"aggregation_strategy": "simple"}}
    response = token_client.post("/v2/models/ner/infer", json=body)
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert output["shape"] == [2]
    assert [json.loads(row) for row in output["data"]] == [tag(token_client, SENTENCE, aggregation_strategy="simple"), []]
    bad = token_client.post("/v2/models/ner/infer", json={**body, "parameters": {"aggregation_strategy": "mean"}})
    assert bad.status_code == 422 and "aggregation_strategy" in bad.json()["error"]


def test_fp16_rule_same_tag_on_99_percent_of_tokens_and_logits_within_005():
    rule = get_task("token-classification").agreement
    sequences = [[1] * n for n in (3, 50, 47)]  # 100 tokens

    def reference(batch):
        width = max(map(len, batch))
        out = np.zeros((len(batch), width, 3), dtype=np.float32)
        out[:, :, 0], out[:, :, 1] = 1.0, 0.98  # tag 0 best, tag 1 close behind
        for row, seq in enumerate(batch):
            out[row, len(seq):] = 7.0  # padding rows hold anything: not compared
        return out

    def flip(count):
        def run(batch):
            out = reference(batch)
            flipped = 0
            for row, seq in enumerate(batch):
                for token in range(len(seq)):
                    if flipped < count and len(seq) == 50:
                        out[row, token, 1] = 1.02  # the best tag changes, the logit moves 0.04
                        flipped += 1
            return out
        return run

    assert check_variant("fp16", flip(1), reference, sequences, rule, "CPU").status == "passed"
    failed = check_variant("fp16", flip(2), reference, sequences, rule, "CPU")
    assert failed.status == "failed" and failed.agreement == pytest.approx(0.98)
    far = check_variant("fp16", lambda b: reference(b) + 0.06, reference, sequences, rule, "CPU")
    assert far.status == "failed" and "0.05" in far.note
    assert CheckLimits().max_abs_diff == 0.05 and CheckLimits().min_agreement == 0.99


def test_an_unvalidated_variant_is_checked_per_token_at_start_up(token_repository, tmp_path):
    import shutil

    from modelfolder.manifest import read_manifest, write_manifest
    from modelfolder.sample import write_sample
    from service.serving.loading import load_runtime
    from tests.service.conftest import make_settings
    from tests.service.model_folders import _variant

    folder = shutil.copytree(token_repository / "ner-random", tmp_path / "ner-fp16")
    shutil.copyfile(folder / "model.onnx", folder / "model.fp16.onnx")  # fp32 standing in for fp16
    manifest = read_manifest(folder)
    manifest.variants["fp16"] = _variant(folder, "model.fp16.onnx", "fp16", "exported without a GPU",
                                         recommended=False)
    manifest.validation_sample = write_sample(folder, [[2, 7, 9, 3], [2, 5, 3], [2, *range(10, 50), 3]])
    write_manifest(folder, manifest)
    runtime = load_runtime(folder, make_settings(tmp_path, variant="fp16"))
    check = runtime.checks["fp16"]
    assert (runtime.variant, check.status, check.max_abs_diff, check.agreement) == ("fp16", "passed", 0.0, 1.0)
