"""Which token states a text teacher's new head reads (`--teacher-head`), and the head that reads
the mean of them.

BERT's sequence-classification head reads the [CLS] token through the pooler (dense + tanh), which
BERT's next-sentence objective trained. An encoder trained as a sentence-transformers model with
mean pooling (all-MiniLM-L6-v2, the built-in teacher) never trained its [CLS] state or its pooler
to summarise a text: its sentence representation is the mean of its token states. A head over that
mean starts from the representation the encoder learnt; the measurement is in docs/RESULTS.md
("Teachers that learn (GLUE)").

"auto" reads the teacher folder's sentence-transformers configuration (`modules.json`): mean
pooling there gives the mean head, anything else (or no such configuration) the [CLS] pooler head.
The choice is recorded in the saved config (`classifier_pooling`), so the checkpoint loads back
with the same head (`load_sequence_model`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from distill.data import DataError
from distill.tasks.embeddings.pooling import read_pooling

HEADS = ("auto", "cls", "mean")
CONFIG_KEY = "classifier_pooling"  # in a saved teacher's config.json: "mean" for the mean head


def choose_head(choice: str, location: str) -> str:
    """"cls" or "mean" for `choice` ("auto": the pooling the teacher's sentence-transformers config declares)."""
    if choice not in HEADS:
        raise DataError(f"--teacher-head must be one of {', '.join(HEADS)}, got {choice!r}")
    if choice != "auto":
        return choice
    if not Path(location).is_dir():
        return "cls"
    pooling = read_pooling(location)
    return "mean" if pooling.source == "sentence-transformers" and pooling.mode == "mean" else "cls"


def mean_of_tokens(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, dim] -> [batch, dim]: the mean over the real tokens (all of them without a mask)."""
    if attention_mask is None:
        return hidden.mean(dim=1)
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class BertMeanPooledForSequenceClassification(BertPreTrainedModel):
    """BERT with a sequence-classification (or one-output regression) head over the mean of the
    last layer's token states: dropout, then one linear layer. No pooler."""

    def __init__(self, config):
        super().__init__(config)
        config.classifier_pooling = "mean"
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        rate = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(rate)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, labels=None, output_attentions=None, output_hidden_states=None,
                return_dict=None, **kwargs) -> SequenceClassifierOutput:
        outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                            position_ids=position_ids, inputs_embeds=inputs_embeds,
                            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                            return_dict=True)
        logits = self.classifier(self.dropout(mean_of_tokens(outputs.last_hidden_state, attention_mask)))
        loss = None if labels is None else self._loss(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states,
                                        attentions=outputs.attentions)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.num_labels == 1:
            return nn.functional.mse_loss(logits.reshape(-1), labels.reshape(-1).to(logits.dtype))
        return nn.functional.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1))


def head_class(head: str) -> type:
    """The model class of a new head: "mean" or "cls" (BERT's own, through the auto class)."""
    return BertMeanPooledForSequenceClassification if head == "mean" else AutoModelForSequenceClassification


def load_sequence_model(location: str, **kwargs):
    """A sequence classifier or regressor from `location`, with the head its config records."""
    pooling = getattr(AutoConfig.from_pretrained(location), CONFIG_KEY, None)
    return head_class("mean" if pooling == "mean" else "cls").from_pretrained(location, **kwargs)
