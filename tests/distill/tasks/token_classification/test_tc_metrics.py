"""Entity extraction with conlleval / seqeval-default rules, and entity-level scores."""

import pytest

from distill.tasks.token_classification.metrics import entities, entity_scores


@pytest.mark.parametrize("tags, expected", [
    # IOB2: B- starts, I- continues
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),
    # two entities of one type side by side: the second B- splits them
    (["B-PER", "B-PER"], [("PER", 0, 0), ("PER", 1, 1)]),
    (["B-PER", "I-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 2, 3)]),
    # IOB1: I- after O (or at the start) starts an entity; B- only splits neighbours of one type
    (["I-PER", "I-PER", "O", "I-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),
    (["I-PER", "B-PER", "I-PER"], [("PER", 0, 0), ("PER", 1, 2)]),
    # a change of type ends one entity and starts another, with either prefix
    (["I-PER", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 1)]),
    (["B-ORG", "I-LOC", "I-LOC"], [("ORG", 0, 0), ("LOC", 1, 2)]),
    # an entity running to the end of the sentence is closed there
    (["O", "B-ORG", "I-ORG"], [("ORG", 1, 2)]),
    (["O", "O"], []),
    ([], []),
])
def test_entities(tags, expected):
    assert entities(tags) == expected


def test_lenient_reading_makes_a_stray_inside_tag_an_entity():
    # in IOB2 data a predicted I- after O is invalid; read leniently it is still an entity (seqeval's default)
    assert entities(["O", "I-PER", "I-PER", "O"]) == [("PER", 1, 2)]


def test_scores_need_the_exact_span_and_type():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"],  # PER cut short: wrong span; LOC right
                 ["B-LOC", "O"]]  # right span, wrong type
    scores = entity_scores(gold, predicted)
    assert scores["entity_precision"] == pytest.approx(1 / 3)
    assert scores["entity_recall"] == pytest.approx(1 / 3)
    assert scores["entity_f1"] == pytest.approx(1 / 3)


def test_precision_and_recall_differ_when_counts_differ():
    gold = [["B-PER", "O", "B-LOC", "O"]]
    predicted = [["B-PER", "O", "O", "O"]]
    assert entity_scores(gold, predicted) == pytest.approx(
        {"entity_precision": 1.0, "entity_recall": 0.5, "entity_f1": 2 / 3})


def test_iob1_gold_and_iob2_predictions_of_the_same_entities_agree():
    assert entity_scores([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])["entity_f1"] == 1.0


def test_nothing_predicted_or_nothing_gold_scores_zero():
    assert entity_scores([["B-PER"]], [["O"]]) == {"entity_precision": 0.0, "entity_recall": 0.0, "entity_f1": 0.0}
    assert entity_scores([["O"]], [["B-PER"]])["entity_f1"] == 0.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 predicted tags for 1 words"):
        entity_scores([["O"]], [["O", "O"]])
    with pytest.raises(ValueError, match="1 predicted sentences for 2 gold"):
        entity_scores([["O"], ["O"]], [["O"]])
