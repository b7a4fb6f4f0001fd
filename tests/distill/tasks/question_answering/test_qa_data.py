"""SQuAD JSON loading: v1.1 and v2.0, integer ids, several files, article split, clear errors."""

import json

import pytest

from distill.data import DataError
from distill.tasks.question_answering.data import QADataConfig, QAExample, load_qa_data, read_squad_json
from tests.distill.tasks.question_answering import tiny_squad


def test_v1_examples_keep_text_offsets_and_titles(squad_v1):
    examples = read_squad_json(squad_v1)
    assert len(examples) == 12 and examples[0].id == "q1" and examples[0].title == "Rivers"
    for example in examples:
        answer = example.answers[0]
        assert example.context[answer.start:answer.start + len(answer.text)] == answer.text
    assert not any(e.is_impossible for e in examples)


def test_v2_impossible_and_integer_ids(tmp_path):
    document = tiny_squad.squad_document(int_ids=True, impossible=[
        ("Moon", "the moon circles the earth once a month .", "who built the moon ?")])
    examples = read_squad_json(tiny_squad.write_squad(tmp_path / "v2.json", document))
    assert [e.id for e in examples[:2]] == ["1", "2"]
    assert examples[-1].is_impossible and examples[-1].answers == () and examples[-1].id == "13"


def test_several_files_are_concatenated_and_split_by_article(tmp_path, squad_v1):
    other = tiny_squad.squad_document()
    other["data"] = [{**a, "title": a["title"] + " 2"} for a in other["data"]]
    second = tiny_squad.write_squad(tmp_path / "second.json", other)
    data = load_qa_data(QADataConfig(source=f"{squad_v1}, {second}", validation_fraction=0.34, seed=1))
    assert len(data.train) + len(data.validation) == 24
    held = {e.title for e in data.validation}
    assert held and not held & {e.title for e in data.train}
    assert data.description["train_examples"] == len(data.train)


def test_validation_file_and_caps(tmp_path, squad_v1):
    data = load_qa_data(QADataConfig(source=str(squad_v1), validation_source=str(squad_v1),
                                     max_train_examples=5, max_eval_examples=3))
    assert (len(data.train), len(data.validation)) == (5, 3)


def test_record_round_trip(squad_v1):
    example = read_squad_json(squad_v1)[4]
    assert QAExample.from_record(json.loads(json.dumps(example.as_record()))) == example


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_squad_json(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [')
    with pytest.raises(DataError, match="not valid JSON"):
        read_squad_json(broken)
    broken.write_text('{"rows": []}')
    with pytest.raises(DataError, match="not SQuAD JSON"):
        read_squad_json(broken)
    broken.write_text('{"data": [{"title": "x"}]}')
    with pytest.raises(DataError, match="'paragraphs'"):
        read_squad_json(broken)


def test_answer_not_at_answer_start(tmp_path):
    document = tiny_squad.squad_document()
    document["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] += 3
    path = tiny_squad.write_squad(tmp_path / "bad.json", document)
    with pytest.raises(DataError, match="q1: answer 'near rotterdam' not found in the context at answer_start"):
        read_squad_json(path)
    assert [e.id for e in read_squad_json(path, skip_bad_answers=True)][:1] == ["q2"]


def test_surrounding_spaces_in_answer_text_are_trimmed(tmp_path):
    document = tiny_squad.squad_document()
    answer = document["data"][0]["paragraphs"][0]["qas"][1]["answers"][0]
    answer.update(text=" basel ", answer_start=answer["answer_start"] - 1)
    example = read_squad_json(tiny_squad.write_squad(tmp_path / "spaces.json", document))[1]
    assert example.answers[0].text == "basel"
    assert example.context[example.answers[0].start:].startswith("basel")


def test_leading_space_with_answer_start_at_the_text(tmp_path):
    document = tiny_squad.squad_document()
    answer = document["data"][0]["paragraphs"][0]["qas"][1]["answers"][0]
    answer.update(text=" basel")  # answer_start still points at "basel" (as in COVID-QA)
    example = read_squad_json(tiny_squad.write_squad(tmp_path / "lead.json", document))[1]
    assert example.context[example.answers[0].start:].startswith("basel ")


def test_written_squad_json_reads_back(tmp_path, squad_v1):
    from distill.tasks.question_answering.data import write_squad_json

    examples = read_squad_json(squad_v1) + [QAExample("none", "who ?", "the sea .", (), "Sea")]
    assert read_squad_json(write_squad_json(examples, tmp_path / "out.json")) == examples
