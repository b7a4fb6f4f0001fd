"""The embeddings' answer shapes as pure functions: base64 bytes, JSON numbers, the `dimensions` check."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from service.errors import InvalidInput
from service.tasks.embeddings.vectors import (
    check_dimensions,
    decode_vector,
    embedding_list,
    encode_answer,
    encode_vector,
)


def test_base64_holds_little_endian_float32_bytes():
    encoded = encode_vector(np.array([1.0, -2.0], dtype=np.float64), "base64")
    assert base64.b64decode(encoded) == b"\x00\x00\x80\x3f\x00\x00\x00\xc0"
    big_endian = np.array([0.25, 3.5], dtype=">f4")
    np.testing.assert_array_equal(decode_vector(encode_vector(big_endian, "base64")), [0.25, 3.5])


def test_json_numbers_are_the_shortest_that_read_back_as_the_same_float32():
    vector = np.array([0.1, 1 / 3, -0.012345678], dtype=np.float32)
    answer = embedding_list([vector], "float", "m", 5)
    text = encode_answer(answer).body.decode()
    assert '"embedding":[0.1,0.33333334,-0.012345678]' in text
    parsed = json.loads(text)
    np.testing.assert_array_equal(np.array(parsed["data"][0]["embedding"], dtype=np.float32), vector)
    assert parsed == {"object": "list", "model": "m", "usage": {"prompt_tokens": 5, "total_tokens": 5},
                      "data": [{"object": "embedding", "index": 0, "embedding": parsed["data"][0]["embedding"]}]}


def test_dimensions_must_be_the_models_or_left_out():
    check_dimensions(None, 384)
    check_dimensions(384, 384)
    check_dimensions(100, None)  # a manifest without an embedding block: nothing to compare with
    with pytest.raises(InvalidInput, match="384 dimensions") as caught:
        check_dimensions(256, 384)
    assert caught.value.field == "dimensions"
