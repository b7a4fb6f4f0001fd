"""Student config, the layer map, and initialisation from the teacher's weights."""

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from distill.student import StudentError, layer_map, student_config
from distill.tasks.classification.models import build_student, load_classifier

LABELS = ["negative", "positive"]


def test_layer_map_six_to_three():
    assert layer_map(6, 3) == [0, 2, 4]


def test_layer_map_twelve_to_six_like_distilbert():
    assert layer_map(12, 6) == [0, 2, 4, 7, 9, 11]


def test_layer_map_rejects_too_many_layers():
    with pytest.raises(StudentError, match="between 1 and 6"):
        layer_map(6, 7)


def test_config_derives_from_teacher(headless_teacher):
    teacher = load_classifier(str(headless_teacher), LABELS)
    config = student_config(teacher.config, 3, LABELS)
    t = teacher.config
    assert (config.dim, config.n_heads, config.hidden_dim) == (t.hidden_size, t.num_attention_heads, t.intermediate_size)
    assert (config.vocab_size, config.max_position_embeddings) == (t.vocab_size, t.max_position_embeddings)
    assert (config.activation, config.dropout, config.n_layers) == (t.hidden_act, t.hidden_dropout_prob, 3)
    assert config.id2label == {0: "negative", 1: "positive"}


@pytest.fixture(scope="module")
def pair(headless_teacher):
    torch.manual_seed(0)
    teacher = load_classifier(str(headless_teacher), LABELS).eval()
    student, mapping = build_student(teacher, 3, LABELS)
    return teacher, student.eval(), mapping


def test_default_student_takes_mapped_layers(pair):
    teacher, student, mapping = pair
    assert mapping == [0, 2, 4]
    names = {"attention.q_lin": "attention.self.query", "attention.k_lin": "attention.self.key",
             "attention.v_lin": "attention.self.value", "attention.out_lin": "attention.output.dense",
             "sa_layer_norm": "attention.output.LayerNorm", "ffn.lin1": "intermediate.dense",
             "ffn.lin2": "output.dense", "output_layer_norm": "output.LayerNorm"}
    s_state, t_state = student.state_dict(), teacher.state_dict()
    for s_index, t_index in enumerate([0, 2, 4]):
        for s_name, t_name in names.items():
            for kind in ("weight", "bias"):
                got = s_state[f"distilbert.transformer.layer.{s_index}.{s_name}.{kind}"]
                want = t_state[f"bert.encoder.layer.{t_index}.{t_name}.{kind}"]
                assert torch.equal(got, want), (s_index, s_name, kind)


def test_embeddings_and_pooler_are_copied(pair):
    teacher, student, _ = pair
    t_emb, s_emb = teacher.bert.embeddings, student.distilbert.embeddings
    assert torch.equal(s_emb.word_embeddings.weight, t_emb.word_embeddings.weight)
    assert torch.equal(s_emb.LayerNorm.weight, t_emb.LayerNorm.weight)
    folded = t_emb.position_embeddings.weight + t_emb.token_type_embeddings.weight[0]
    assert torch.equal(s_emb.position_embeddings.weight, folded)
    assert torch.equal(student.pre_classifier.weight, teacher.bert.pooler.dense.weight)


def test_folded_embeddings_give_the_teacher_embedding_output(pair):
    teacher, student, _ = pair
    ids = torch.tensor([[2, 7, 9, 11, 13, 3], [2, 20, 21, 3, 0, 0]])
    with torch.no_grad():
        want = teacher.bert.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
        got = student.distilbert.embeddings(ids)
    assert torch.allclose(got, want, atol=1e-6)
    # and the folding matters: without the token-type row the outputs differ
    assert teacher.bert.embeddings.token_type_embeddings.weight[0].abs().max() > 1e-3


def test_first_layer_output_equals_teacher_first_layer(pair):
    teacher, student, _ = pair  # eval mode: dropout off, so layer 0 must agree exactly
    ids = torch.tensor([[2, 7, 9, 11, 13, 3]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        t_hidden = teacher(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        s_hidden = student(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
    assert torch.allclose(s_hidden[1], t_hidden[1], atol=1e-5)


def test_matching_head_is_copied(headed_teacher):
    teacher = AutoModelForSequenceClassification.from_pretrained(str(headed_teacher))
    student, _ = build_student(teacher, 2, LABELS)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert torch.equal(student.classifier.bias, teacher.classifier.bias)


def test_mismatched_head_is_not_copied(headed_teacher):
    teacher = AutoModelForSequenceClassification.from_pretrained(str(headed_teacher))
    student, _ = build_student(teacher, 2, ["positive", "negative"])
    assert not torch.equal(student.classifier.weight, teacher.classifier.weight)


def test_the_teacher_layers_a_student_takes_can_be_named():
    assert layer_map(6, (1, 3, 5)) == [1, 3, 5]
    for bad in ((3, 1), (0, 6), (), (2, 2)):
        with pytest.raises(StudentError, match="ascending teacher layers"):
            layer_map(6, bad)


def test_keep_last_also_shifts_the_upper_layers_of_an_odd_student():
    assert layer_map(6, 3, keep_last=True) == [0, 3, 5] and layer_map(6, 3) == [0, 2, 4]
    assert layer_map(12, 6, keep_last=True) == layer_map(12, 6) == [0, 2, 4, 7, 9, 11]
    assert layer_map(12, 3, keep_last=True) == [0, 7, 11] and layer_map(6, 1, keep_last=True) == [0]
