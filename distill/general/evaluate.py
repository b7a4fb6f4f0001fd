"""Held-out measurements of a general student against its teacher: the cosine of their last
hidden states (real tokens), and, when the teacher has an MLM head, masked-token accuracy and
perplexity of both on the same masked held-out sequences."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from distill.devices import place
from distill.general.masking import IGNORE
from distill.losses import hidden_cosine_loss


class _Tally:
    def __init__(self):
        self.loss, self.correct, self.tokens = 0.0, 0, 0

    def add(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        chosen = labels != IGNORE
        self.loss += F.cross_entropy(logits[chosen].float(), labels[chosen], reduction="sum").item()
        self.correct += int((logits[chosen].argmax(-1) == labels[chosen]).sum())
        self.tokens += int(chosen.sum())

    def result(self) -> dict:
        if not self.tokens:
            return {"masked_accuracy": None, "perplexity": None, "masked_tokens": 0}
        return {"masked_accuracy": round(self.correct / self.tokens, 6),
                "perplexity": round(math.exp(self.loss / self.tokens), 4), "masked_tokens": self.tokens}


@torch.inference_mode()
def held_out_outputs(teacher, student, sequences: list[list[int]], collator, device: torch.device | str,
                     batch_size: int = 32):
    """(batch on `device`, labels or None, {"teacher": outputs, "student": outputs}) per held-out batch,
    both models first put whole on `device` (training moves only the modules it trains)."""
    place(device, teacher, student)
    teacher.eval(), student.eval()
    for first in tqdm(range(0, len(sequences), batch_size), desc="held-out", leave=False):
        batch = collator([{"input_ids": s} for s in sequences[first:first + batch_size]])
        labels = batch.pop("labels", None)
        batch = {k: v.to(device) for k, v in batch.items()}
        outputs = {name: model(**batch, output_hidden_states=True) for name, model in
                   (("teacher", teacher), ("student", student))}
        yield batch, None if labels is None else labels.to(device), outputs


@torch.inference_mode()
def held_out_metrics(teacher, student, with_head: bool, sequences: list[list[int]], collator,
                     device: torch.device | str, batch_size: int = 32) -> dict:
    """`collator` pads (and, with an MLM head, masks) the held-out batches; seed it for repeatable
    masks. Both models see exactly the same inputs, on `device`."""
    if not sequences:
        return {}
    cosine, count = 0.0, 0
    tallies = {"teacher": _Tally(), "student": _Tally()}
    for batch, labels, outputs in held_out_outputs(teacher, student, sequences, collator, device, batch_size):
        rows = batch["input_ids"].shape[0]
        distance = hidden_cosine_loss([outputs["student"].hidden_states[-1]], [outputs["teacher"].hidden_states[-1]],
                                      batch["attention_mask"])
        cosine, count = cosine + (1.0 - distance.item()) * rows, count + rows
        if with_head:
            for name, tally in tallies.items():
                tally.add(outputs[name].logits, labels)
    result = {"sequences": count, "hidden_cosine": round(cosine / count, 6)}
    if with_head:
        result.update({name: tally.result() for name, tally in tallies.items()})
    return result
