"""POST /v1/qa against real ONNX Runtime sessions: the rule model (answers known in advance:
from "begin" to "end", then "first" to "last"; no such word: impossible) and a random DistilBERT."""

from __future__ import annotations

import concurrent.futures
import math
import re

import pytest
from openapi_spec_validator import validate

from tests.service.conftest import serving
from tests.service.model_folders import NULL_WEIGHT, build_rule_qa_folder
from tests.service.routes.test_api import error_of

QUESTION = "where is the museum ?"  # 5 tokens: with [CLS], [SEP], [SEP] 8 of the model's 32
FILLER = "river"  # one token


@pytest.fixture(scope="module")
def limited_client(qa_repository):
    with serving(qa_repository, models=["qa", "sentiment"], qa_max_context_chars=100,
                 qa_max_question_tokens=8, qa_max_windows=3, max_inputs=4) as c:
        yield c


def ask(client, context: str, question: str = QUESTION, **options):
    response = client.post("/v1/qa", json={"question": question, "context": context, **options})
    assert response.status_code == 200, response.text
    return response.json()


def items_processed(client, model: str = "qa") -> float:
    text = client.get("/metrics").text
    match = re.search(rf'serve_items_processed_total\{{model="{model}"\}} ([0-9.]+)', text)
    return float(match.group(1)) if match else 0.0


def expected_span(context: str, answer: str) -> tuple[int, int]:
    start = context.index(answer)
    return start, start + len(answer)


@pytest.mark.parametrize(
    "context, answer",
    [
        ("The museum opens begin at nine end .", "begin at nine end"),
        ("Das Museum in Zürich : begin Zürich , am Fluss end .", "begin Zürich , am Fluss end"),
        ("Élodie à Genève déjà ; begin café crème end", "begin café crème end"),
        ("東京タワー は 東京 に begin 東京 タワー end あります", "begin 東京 タワー end"),
        ("😀 🎉🎉 👋🏽 begin café 😀 end 🎉", "begin café 😀 end"),
    ],
)
def test_the_answer_is_the_exact_substring_of_a_non_ascii_context(qa_client, context, answer):
    result = ask(qa_client, context)  # `model` left out: the only QA model answers
    assert result["answer"] == answer
    assert (result["start"], result["end"]) == expected_span(context, answer)
    assert context[result["start"]: result["end"]] == result["answer"]
    assert 0.9 < result["score"] <= 1.0


def test_top_k_gives_distinct_answers_best_first(qa_client):
    context = "first river last . begin cafe end"
    answers = ask(qa_client, context, top_k=4)
    assert isinstance(answers, list) and len(answers) == 4
    # start weights: begin 8 > first 5; end weights: end 8 > last 5
    assert [a["answer"] for a in answers[:3]] == ["begin cafe end", context, "first river last"]
    scores = [a["score"] for a in answers]
    assert scores[0] > scores[1] > scores[2] >= scores[3]
    assert len({(a["start"], a["end"]) for a in answers}) == 4
    for a in answers:
        assert context[a["start"]: a["end"]] == a["answer"]


def test_inputs_give_one_entry_per_pair(qa_client):
    body = {"inputs": [{"question": "what ?", "context": "a first river last"},
                       {"question": "who ?", "context": "begin cafe end"}]}
    one = qa_client.post("/v1/qa", json=body).json()
    assert [a["answer"] for a in one] == ["first river last", "begin cafe end"]
    several = qa_client.post("/v1/qa", json={**body, "top_k": 2}).json()
    assert [len(a) for a in several] == [2, 2] and several[1][0]["answer"] == "begin cafe end"


def test_an_answer_across_a_window_border_is_found(qa_client):
    """Room per window: 32 - 8 = 24 context tokens; doc_stride 8: windows start every 16 tokens.
    "begin" is context token 22 and "end" token 25: the first window ([0, 24)) holds only the
    start of the answer, the second ([16, 40)) all of it."""
    context = " ".join([FILLER] * 22 + ["begin", "cafe", "zurich", "end"] + [FILLER] * 20)
    before = items_processed(qa_client)
    result = ask(qa_client, context, doc_stride=8)
    assert items_processed(qa_client) - before == 3  # windows [0, 24), [16, 40), [32, 46)
    assert result["answer"] == "begin cafe zurich end"
    assert (result["start"], result["end"]) == expected_span(context, "begin cafe zurich end")
    assert result["score"] > 0.9


def test_impossible_answers(qa_client):
    context = "the museum is by the river"  # no start or end word: the CLS token wins
    empty = ask(qa_client, context, handle_impossible_answer=True)
    assert empty["answer"] == "" and empty["start"] == empty["end"] == 0 and empty["score"] > 0.5
    forced = ask(qa_client, context)
    assert forced["answer"] and context[forced["start"]: forced["end"]] == forced["answer"]
    answerable = ask(qa_client, "begin cafe end", handle_impossible_answer=True, top_k=10)
    assert answerable[0]["answer"] == "begin cafe end"
    (null,) = [a for a in answerable if a["answer"] == ""]
    # CLS against the context tokens begin (8), cafe (0), end (0) on the start side; alike on the end side
    p_cls = math.exp(NULL_WEIGHT) / (math.exp(NULL_WEIGHT) + math.exp(8.0) + 2)
    assert null["score"] == pytest.approx(p_cls ** 2) and null["start"] == null["end"] == 0


def test_max_answer_len_limits_the_span_in_tokens(qa_client):
    context = "begin cafe zurich river end"
    assert ask(qa_client, context, max_answer_len=5)["answer"] == context
    assert ask(qa_client, context, max_answer_len=4)["answer"] != context


def test_a_long_question_is_cut_to_max_question_len(qa_client):
    question = " ".join(["where"] * 40)
    assert ask(qa_client, "begin cafe end", question=question, max_question_len=10)["answer"] == "begin cafe end"


@pytest.mark.parametrize(
    "body, field, needle",
    [
        ({"question": "where ?", "context": "x" * 101}, "context", "at most 100"),
        ({"inputs": [{"question": "q", "context": "ok"}, {"question": "q", "context": "x" * 101}]},
         "inputs[1].context", "at most 100"),
        ({"question": " ".join(["where"] * 9), "context": "begin end"}, "question", "at most 8"),
        ({"inputs": [{"question": "q", "context": "c"}, {"question": " ".join(["where"] * 9), "context": "c"}]},
         "inputs[1].question", "9 tokens, at most 8"),
        ({"question": "where ?", "context": " ".join(["xxxxxxxxx"] * 10), "doc_stride": 0}, "context",
         "4 windows of the model's 32 tokens, at most 3 per request"),  # 90 tokens, 27 a window
        ({"question": "where ?", "context": "begin end", "doc_stride": 27}, "doc_stride", "27 context tokens"),
        ({"question": " ".join(["where"] * 8), "context": "begin end", "max_question_len": 64,
          "model": "qa"}, None, None),
        ({"question": "where ?"}, "context", "required"),
        ({"context": "begin end"}, "question", "required"),
        ({"question": "q", "context": "c", "inputs": [{"question": "q", "context": "c"}]}, "inputs", "not both"),
        ({"inputs": []}, "inputs", "at least 1"),
        ({"inputs": [{"question": "q", "context": "c"}] * 5}, "inputs", "from 1 to 4"),
        ({"inputs": [{"question": "q"}]}, "inputs[0].context", "required"),
        ({"question": "", "context": "c"}, "question", "at least 1"),
        ({"question": "q", "context": "c", "top_k": 0}, "top_k", "greater than"),
        ({"question": "q", "context": "c", "max_answer_len": 0}, "max_answer_len", "greater than"),
        ({"question": "q", "context": "c", "colour": "red"}, "colour", "not permitted"),
        ({"model": "sentiment", "question": "q", "context": "c"}, "model", "not question-answering"),
    ],
)
def test_limits_and_bad_input_are_422_naming_the_field(limited_client, body, field, needle):
    response = limited_client.post("/v1/qa", json=body)
    if field is None:  # the limit on question tokens is inclusive
        assert response.status_code == 200, response.text
        return
    error = error_of(response, 422)
    assert error["field"] == field, error
    assert needle in error["message"] and field.split(".")[0].split("[")[0] in error["message"]
    if error["type"] == "input_too_long":
        assert 'serve_rejections_total{model="qa",reason="too_long"}' in limited_client.get("/metrics").text


def test_a_failing_model_is_a_clean_500(qa_client):
    batcher = qa_client.app.state.service.batchers["qa"]
    run = batcher._run_fn

    def explode(sequences):
        raise FloatingPointError("injected fault")

    batcher._run_fn = explode
    try:
        error = error_of(qa_client.post("/v1/qa", json={"question": "q", "context": "begin end"}), 500)
    finally:
        batcher._run_fn = run
    assert "FloatingPointError" in error["message"] and "injected" not in error["message"]
    assert ask(qa_client, "begin end")["answer"] == "begin end"


def test_a_question_without_room_for_the_context_is_422(qa_client):
    body = {"question": " ".join(["where"] * 30), "context": "begin end"}
    error = error_of(qa_client.post("/v1/qa", json=body), 422)
    assert error["field"] == "question" and "no room" in error["message"]


def test_unknown_model_is_404_and_qa_models_are_refused_by_classify(qa_client):
    error_of(qa_client.post("/v1/qa", json={"model": "nope", "question": "q", "context": "c"}), 404)
    error = error_of(qa_client.post("/v1/classify", json={"model": "qa", "inputs": "x"}), 422)
    assert error["field"] == "model" and "question-answering" in error["message"]


def test_classification_is_unchanged_next_to_a_qa_model(qa_client):
    only = qa_client.post("/v1/classify", json={"inputs": "a dull film"})  # the only classifier
    assert only.status_code == 200 and only.json()[0]["label"] in ("negative", "positive")
    assert qa_client.post("/v1/sentiment", json={"inputs": ["a", "b"]}).status_code == 200


def test_windows_of_concurrent_requests_share_batches(qa_repository):
    """Three requests of two windows each; a batch runs once 6 windows wait (max_batch_items 6),
    long before the 5 s max wait: all six windows run as one batch."""
    context = " ".join([FILLER] * 10 + ["begin", "cafe", "end"] + [FILLER] * 17)  # 30 tokens
    # the last window of a context is shorter: padding is allowed so that all six share one batch
    with serving(qa_repository, models=["qa"], max_batch_items=6, max_wait_ms=5000.0, max_batch_padding=1.0) as c:
        batcher = c.app.state.service.batchers["qa"]
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda _: ask(c, context, doc_stride=4), range(3)))
        assert [r["answer"] for r in results] == ["begin cafe end"] * 3
        assert [r.size for r in batcher.records] == [6]
        text = c.get("/metrics").text
    assert 'serve_batch_size_items_bucket{le="6.0",model="qa"} 1.0' in text
    assert 'serve_batch_size_items_bucket{le="4.0",model="qa"} 0.0' in text
    assert 'serve_items_processed_total{model="qa"} 6.0' in text


def test_metrics_models_and_openapi_show_question_answering(qa_client):
    ask(qa_client, "begin cafe end")
    text = qa_client.get("/metrics").text
    assert re.search(r'serve_requests_total\{model="qa",route="/v1/qa",status_class="2xx"\} [1-9]', text)
    assert 'serve_model_info{model="qa",provider="CPUExecutionProvider",task="question-answering",variant="fp32"} 1.0' in text
    assert re.search(r'serve_tokenization_duration_seconds_count\{model="qa"\} [1-9]', text)
    assert re.search(r'serve_request_duration_seconds_count\{model="qa",route="/v1/qa"\} [1-9]', text)
    listing = {m["name"]: m for m in qa_client.get("/v1/models").json()["models"]}
    assert listing["qa"]["task"] == "question-answering" and listing["qa"]["labels"] == []
    assert listing["sentiment"]["task"] == "text-classification"
    spec = qa_client.get("/openapi.json").json()
    validate(spec)
    assert {"200", "404", "422", "429", "504"} <= set(spec["paths"]["/v1/qa"]["post"]["responses"])


def test_a_random_distilbert_qa_model_answers_substrings(qa_repository):
    context = "Das Museum in Zürich 😀 liegt am Fluss , begin café end . " * 4
    with serving(qa_repository, models=["qa-random"]) as c:
        answers = ask(c, context, top_k=3, doc_stride=10)
        runtime = c.app.state.service.models.runtimes["qa-random"]
        output = runtime.run([[2, 40, 3, 50, 51, 3], [2, 40, 3]])
    assert output.shape == (2, 2, 6)
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    for a in answers:
        assert 0.0 <= a["score"] <= 1.0 and context[a["start"]: a["end"]] == a["answer"] != ""


def test_left_out_fields_take_the_models_training_values(tmp_path):
    """The manifest's `qa` block (written by the export from the training settings) gives the
    defaults; a field the request sends still wins."""
    trained = {"doc_stride": 2, "max_question_len": 64, "max_answer_len": 4, "handle_impossible_answer": True}
    build_rule_qa_folder(tmp_path / "trained", qa_defaults=trained)
    with serving(tmp_path, models=["trained"]) as client:
        assert client.get("/v1/models/trained").json()["qa"] == trained
        assert ask(client, "the museum is by the river")["answer"] == ""
        assert ask(client, "the museum is by the river", handle_impossible_answer=False)["answer"] != ""
        context = "begin cafe zurich river end"
        assert ask(client, context)["answer"] != context  # 5 tokens > max_answer_len 4
        assert ask(client, context, max_answer_len=5)["answer"] == context
        long = " ".join([FILLER] * 22 + ["begin", "cafe", "zurich", "end"] + [FILLER] * 20)
        before = items_processed(client, "trained")
        ask(client, long)
        # room 24 context tokens of 46: stride 2 (manifest) gives [0, 24), [22, 46); the service's
        # own default (12, half the room) would give three windows
        assert items_processed(client, "trained") - before == 2
