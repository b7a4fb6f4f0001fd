"""Segment ids made inside the model from its input ids, for a checkpoint pre-trained with token
types (BERT) that reads text pairs (question answering): 1 on the second text and its closing
separator, 0 elsewhere and on padding -- the rule the service applies to a `token_type_ids` input
(`service.runtime.model.second_segment`). The exported graph then takes input_ids and
attention_mask only, as every other model folder does."""

from __future__ import annotations

from typing import Any

import torch


class SegmentedModel(torch.nn.Module):
    """`model` given token_type_ids computed from `input_ids` and `attention_mask`."""

    def __init__(self, model: Any, sep_id: int) -> None:
        super().__init__()
        self.model = model
        self.sep_id = sep_id

    @property
    def config(self):
        return self.model.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, return_dict: bool = True):
        separators = (input_ids == self.sep_id).long()
        before = torch.cumsum(separators, dim=1) - separators
        segments = ((before >= 1) & (attention_mask == 1)).long()
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=segments,
                          return_dict=True)


def takes_segments(model: Any) -> bool:
    """Whether the model was pre-trained with more than one token type."""
    return int(getattr(model.config, "type_vocab_size", 0) or 0) > 1


class ImportedTask:
    """The registry's task of an imported checkpoint; its models are loaded with segment ids made
    inside when `sep_id` is given and the model has token types."""

    def __init__(self, task: Any, sep_id: int | None) -> None:
        self._task = task
        self._sep_id = sep_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def load_model(self, folder: str, **kwargs: Any) -> Any:
        model = self._task.load_model(folder, **kwargs)
        if self._sep_id is not None and takes_segments(model):
            return SegmentedModel(model, self._sep_id).eval()
        return model
