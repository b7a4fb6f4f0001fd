"""The model card from reports that lack parts: no teacher row, no timing, a question-answering report."""

from __future__ import annotations

import pytest

from service.web.card import model_card


def test_without_a_teacher_row_the_first_row_is_the_baseline_and_missing_timing_stays_missing():
    report = {"task": "text-classification", "models": [
        {"name": "student (PyTorch)", "accuracy": 0.8, "macro_f1": 0.7},
        {"name": "student ONNX int8", "accuracy": 0.78, "macro_f1": None, "latency_ms": {"1": 2.0}},
    ], "plots": ["curves.png", "missing.png"]}
    card = model_card("m", "text-classification", report, servable={"curves.png"})
    assert card.baseline == "student (PyTorch)"
    first, second = card.rows
    assert first.retention == {"accuracy": 1.0, "macro_f1": 1.0}
    assert second.retention["accuracy"] == pytest.approx(0.78 / 0.8, abs=1e-4)
    assert second.retention["macro_f1"] is None  # no value: no retention either
    assert second.speedup == {}  # the baseline has no latency to compare with
    assert card.batch_sizes == ["1"] and card.plots == ["curves.png"] and card.markdown is None


def test_question_answering_reports_use_exact_match_and_f1():
    report = {"task": "question-answering", "models": [
        {"name": "teacher (PyTorch)", "exact_match": 0.5, "f1": 0.6, "latency_ms": {"1": 9.0, "32": 90.0}},
        {"name": "student (PyTorch)", "exact_match": 0.4, "f1": 0.54, "latency_ms": {"1": 4.5, "32": 60.0}},
    ]}
    card = model_card("qa", "question-answering", report, servable={"report.md"})
    assert card.metrics == {"exact_match": "exact match", "f1": "F1"}
    student = card.rows[1]
    assert student.retention == {"exact_match": pytest.approx(0.8), "f1": pytest.approx(0.9)}
    assert student.speedup == {"1": pytest.approx(2.0), "32": pytest.approx(1.5)}
    assert card.markdown == "report.md" and card.plots == []


def test_an_empty_report_gives_an_empty_card():
    card = model_card("m", "text-classification", {}, servable=set())
    assert card.rows == [] and card.baseline is None and card.batch_sizes == []


def test_token_classification_cards_use_the_task_metrics_unless_the_report_names_its_own():
    rows = [{"name": "teacher (PyTorch)", "entity_f1": 0.8, "entity_precision": 0.75, "entity_recall": 0.85},
            {"name": "student (PyTorch)", "entity_f1": 0.72, "entity_precision": 0.7}]
    card = model_card("ner", "token-classification", {"task": "token-classification", "models": rows}, set())
    assert card.metrics == {"entity_f1": "entity F1", "entity_precision": "entity precision",
                            "entity_recall": "entity recall"}
    assert card.rows[1].retention["entity_f1"] == pytest.approx(0.9) and card.rows[1].metrics["entity_recall"] is None
    named = {"task": "token-classification", "models": rows, "metric_names": {"entity_f1": "F1 (entities)"}}
    assert model_card("ner", "token-classification", named, set()).metrics == {"entity_f1": "F1 (entities)"}
    regression = model_card("sts", "regression", {"task": "regression", "models": []}, set())
    assert regression.metrics == {"pearson": "Pearson", "spearman": "Spearman"}


def test_sentence_embedding_cards_show_the_sts_figures_of_teacher_and_student():
    rows = [{"name": "teacher (PyTorch)", "spearman": 0.82, "mean_cosine": 0.61},
            {"name": "student ONNX int8", "spearman": 0.779, "mean_cosine": 0.58, "latency_ms": {"1": 1.5}}]
    card = model_card("embeddings", "feature-extraction", {"task": "feature-extraction", "models": rows}, set())
    assert card.metrics == {"spearman": "Spearman (STS-B)", "mean_cosine": "mean cosine"}
    assert card.baseline == "teacher (PyTorch)"
    assert card.rows[1].retention == {"spearman": pytest.approx(0.95), "mean_cosine": pytest.approx(0.58 / 0.61, abs=1e-4)}
