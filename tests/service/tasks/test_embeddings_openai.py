"""OpenAI's own Python client (`openai`) against a real server on 127.0.0.1: `embeddings.create`
with float and base64 encodings (base64 is what the client asks for unless told otherwise, and
decodes itself), a batch, and an error it reads into its exception."""

from __future__ import annotations

import numpy as np
import pytest

from tests.service.live import live_server
from tests.service.model_folders import EMBEDDING_DIM

openai = pytest.importorskip("openai")

TEXTS = ["A man is playing a guitar.", "Someone plays an instrument.", "the cat sits on the mat"]


@pytest.fixture(scope="module")
def client(embedding_repository):
    with live_server(embedding_repository, max_inputs=8, api_key="s3cret") as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0, timeout=30)


def as_array(response) -> np.ndarray:
    return np.array([d.embedding for d in response.data], dtype=np.float32)


def test_a_batch_in_both_encodings_gives_the_same_unit_vectors(client):
    floats = client.embeddings.create(model="embed", input=TEXTS, encoding_format="float")
    default = client.embeddings.create(model="embed", input=TEXTS)  # the client asks for base64
    assert [d.index for d in floats.data] == [0, 1, 2] and floats.model == "embed"
    assert as_array(floats).shape == (3, EMBEDDING_DIM)
    np.testing.assert_allclose(as_array(default), as_array(floats), rtol=0, atol=0)
    np.testing.assert_allclose(np.linalg.norm(as_array(floats), axis=1), 1.0, atol=1e-5)
    assert floats.usage.prompt_tokens == floats.usage.total_tokens > 3 * 2


def test_explicit_base64_strings_and_one_text_agree_with_the_batch(client):
    import base64

    raw = client.embeddings.create(model="embed", input=TEXTS, encoding_format="base64")
    assert all(isinstance(d.embedding, str) for d in raw.data)  # asked for explicitly: left as sent
    batch = np.stack([np.frombuffer(base64.b64decode(d.embedding), dtype="<f4") for d in raw.data])
    single = as_array(client.embeddings.create(model="embed", input=TEXTS[1]))
    np.testing.assert_allclose(single[0], batch[1], atol=1e-5)


def test_errors_reach_the_clients_exception(client):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.embeddings.create(model="embed", input="a dog", dimensions=8)
    error = caught.value
    assert error.status_code == 422 and error.param == "dimensions" and error.code == "invalid_input"
    assert "32 dimensions" in str(error)
    with pytest.raises(openai.NotFoundError) as missing:
        client.embeddings.create(model="absent", input="a dog")
    assert missing.value.code == "model_not_found" and missing.value.param == "model"
    wrong_key = openai.OpenAI(base_url=str(client.base_url), api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong_key.embeddings.create(model="embed", input="a dog")
