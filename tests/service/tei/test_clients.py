"""The clients users already have, against a real server on 127.0.0.1 with the tiny models:
huggingface_hub's InferenceClient and AsyncInferenceClient pointed at /models/NAME (each task call,
with its options, and the error it shows for a model asked what it does not do), and tei-client's
HttpClient (sync and async) pointed at /models/NAME and at the root for the default model."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.service.live import live_server
from tests.service.model_folders import EMBEDDING_DIM, SENTIMENT_LABELS

hub = pytest.importorskip("huggingface_hub")
tei_client = pytest.importorskip("tei_client")
pytest.importorskip("aiohttp")  # AsyncInferenceClient's transport in older huggingface_hub releases

TEXTS = ["A man is playing a guitar.", "Someone plays an instrument.", "the cat sits on the mat"]
QUESTION, CONTEXT = "Where is the museum?", "The museum is in Zurich, near the lake."
ENTITIES = "Angela Merkel visited Paris"


@pytest.fixture(scope="module")
def embedding_url(embedding_repository):
    with live_server(embedding_repository, default_model="embed", max_inputs=8) as url:
        yield url


@pytest.fixture(scope="module")
def qa_token_url(qa_repository, token_repository, tmp_path_factory):
    root = tmp_path_factory.mktemp("qa_token")
    for source, name in ((qa_repository, "qa"), (token_repository, "ner")):
        (root / name).symlink_to(source / name, target_is_directory=True)
    with live_server(root) as url:
        yield url


def test_feature_extraction_and_sentence_similarity(embedding_url):
    client = hub.InferenceClient(f"{embedding_url}/models/embed", timeout=30)
    one = client.feature_extraction(TEXTS[0])
    many = client.feature_extraction(TEXTS, normalize=True, truncate=True, truncation_direction="left")
    assert one.shape == (1, EMBEDDING_DIM) and many.shape == (3, EMBEDDING_DIM) and many.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(many[0], one[0], atol=1e-5)
    scores = client.sentence_similarity(TEXTS[0], TEXTS)
    np.testing.assert_allclose(scores, many @ many[0], atol=1e-5)


def test_text_classification_nested_labels_top_k_and_function(embedding_url):
    client = hub.InferenceClient(f"{embedding_url}/models/sentiment", timeout=30)
    every = client.text_classification("a gorgeous, witty film")
    assert {e.label for e in every} == set(SENTIMENT_LABELS) and every[0].score >= every[1].score
    assert sum(e.score for e in every) == pytest.approx(1.0, abs=1e-6)
    best = client.text_classification("a gorgeous, witty film", top_k=1, function_to_apply="sigmoid")
    assert len(best) == 1 and best[0].label == every[0].label and 0 < best[0].score < 1


def test_question_answering_and_token_classification(qa_token_url):
    qa = hub.InferenceClient(f"{qa_token_url}/models/qa", timeout=30)
    answer = qa.question_answering(QUESTION, CONTEXT)
    assert CONTEXT[answer.start:answer.end] == answer.answer
    several = qa.question_answering(QUESTION, CONTEXT, top_k=2, max_answer_len=5, doc_stride=4,
                                    handle_impossible_answer=False, align_to_words=True)
    assert len(several) == 2 and several[0].score >= several[1].score
    ner = hub.InferenceClient(f"{qa_token_url}/models/ner", timeout=30)
    grouped = ner.token_classification(ENTITIES)
    assert [(e.entity_group, e.word) for e in grouped] == [("PER", "Angela Merkel"), ("LOC", "Paris")]
    tokens = ner.token_classification(ENTITIES, aggregation_strategy="none", ignore_labels=[], stride=2)
    assert all(e.entity is not None and ENTITIES[e.start:e.end] == e.word for e in tokens)


def test_a_model_asked_what_it_does_not_do_names_what_it_does(embedding_url, qa_token_url):
    embed = hub.InferenceClient(f"{embedding_url}/models/embed", timeout=30)
    with pytest.raises(hub.errors.HfHubHTTPError) as caught:
        embed.text_classification("a film", top_k=1)
    assert caught.value.response.status_code == 422
    assert "feature-extraction model" in str(caught.value) and "InferenceClient.feature_extraction" in str(caught.value)
    qa = hub.InferenceClient(f"{qa_token_url}/models/qa", timeout=30)
    with pytest.raises(hub.errors.HfHubHTTPError, match="InferenceClient.question_answering"):
        qa.text_classification("a film", top_k=1)
    with pytest.raises(hub.errors.HfHubHTTPError, match="align_to_words"):
        qa.question_answering(QUESTION, CONTEXT, align_to_words=False)
    absent = hub.InferenceClient(f"{embedding_url}/models/absent", timeout=30)
    with pytest.raises(hub.errors.HfHubHTTPError) as missing:
        absent.feature_extraction("a")
    assert missing.value.response.status_code == 404 and "unknown model 'absent'" in str(missing.value)


def test_the_async_client_makes_the_same_calls(embedding_url, qa_token_url):
    async def calls():
        embed = hub.AsyncInferenceClient(f"{embedding_url}/models/embed", timeout=30)
        sentiment = hub.AsyncInferenceClient(f"{embedding_url}/models/sentiment", timeout=30)
        qa = hub.AsyncInferenceClient(f"{qa_token_url}/models/qa", timeout=30)
        ner = hub.AsyncInferenceClient(f"{qa_token_url}/models/ner", timeout=30)
        return await asyncio.gather(
            embed.feature_extraction(TEXTS), embed.sentence_similarity(TEXTS[0], TEXTS),
            sentiment.text_classification("a gorgeous, witty film"), qa.question_answering(QUESTION, CONTEXT),
            ner.token_classification(ENTITIES))

    vectors, scores, labels, answer, entities = asyncio.run(calls())
    sync = hub.InferenceClient(f"{embedding_url}/models/embed", timeout=30)
    np.testing.assert_allclose(vectors, sync.feature_extraction(TEXTS), atol=1e-6)
    np.testing.assert_allclose(scores, sync.sentence_similarity(TEXTS[0], TEXTS), atol=1e-6)
    assert {e.label for e in labels} == set(SENTIMENT_LABELS)
    assert CONTEXT[answer.start:answer.end] == answer.answer and [e.word for e in entities] == ["Angela Merkel", "Paris"]


def test_tei_client_against_a_model_and_the_root(embedding_url):
    embed = tei_client.HttpClient(f"{embedding_url}/models/embed", timeout=30)
    root = tei_client.HttpClient(embedding_url, timeout=30)
    info = embed.info()
    assert info.server_model_type == tei_client.ModelType.Embedding and info.server_model_id == "embed"
    assert info.max_input_length == 32 and embed.health() and root.info().server_model_id == "embed"
    vectors = np.array(embed.embed(TEXTS))
    assert vectors.shape == (3, EMBEDDING_DIM)
    np.testing.assert_allclose(root.embed(TEXTS), vectors, atol=1e-6)
    tokens = embed.tokenize(TEXTS[2])[0]
    assert tokens.tokens[0].special and not tokens.tokens[1].special
    assert embed.decode(tokens.get_ids()) == [TEXTS[2].lower().replace(" ", " ")]
    assert embed.prompt_names() == []
    sentiment = tei_client.HttpClient(f"{embedding_url}/models/sentiment", timeout=30)
    results = sentiment.classify(["a gorgeous, witty film", "a tedious mess"])
    assert len(results) == 2 and {s.label for s in results[0].scores} == set(SENTIMENT_LABELS)
    with pytest.raises(AssertionError):  # the client asks /info first: no model here reranks
        sentiment.rerank("a query", ["a text"])

    async def asynchronous():
        return await embed.async_embed(TEXTS), await sentiment.async_classify("a gorgeous, witty film")

    async_vectors, async_labels = asyncio.run(asynchronous())
    np.testing.assert_allclose(async_vectors, vectors, atol=1e-6)
    assert async_labels[0].scores == results[0].scores
