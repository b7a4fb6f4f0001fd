"""`distill general`: a pretrained BERT teacher -> a general DistilBERT student on raw text.

The student folder (`OUTPUT/student`) is a Hugging Face checkpoint any `AutoModel` loads, with its
tokenizer and `general_info.json` (teacher, layer map, corpus, weights); `distill run
--student-init OUTPUT/student` starts a task student from it (two-step distillation).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from transformers import set_seed

from distill.corpus import CorpusConfig, load_corpus
from distill.devices import barrier, is_main_process
from distill.distillation_trainer import TrainConfig, training_summary
from distill.evaluate import device_of
from distill.general import general_report as reporting
from distill.general.evaluate import held_out_metrics
from distill.general.losses import GeneralWeights
from distill.general.masking import MaskingCollator, MaskingConfig, Vocabulary, token_weights
from distill.general.model import build_mlm_student, load_teacher
from distill.general.raw_text_trainer import train_general
from distill.student_info import write_general_info
from distill.teacher import load_tokenizer, resolve_teacher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneralConfig:
    teacher: str
    corpus: CorpusConfig
    output: Path
    train: TrainConfig = TrainConfig()
    weights: GeneralWeights = GeneralWeights()
    masking: MaskingConfig = field(default_factory=MaskingConfig)
    layers: int | None = None  # None: half the teacher's layers
    intermediate: bool = False  # also match the mapped intermediate layers' hidden states
    eval_batch_size: int = 32


def run_general(config: GeneralConfig, say=log.info) -> dict | None:
    """Distil, save the student, measure it on held-out text and write the report."""
    start, out = time.perf_counter(), Path(config.output)
    location = resolve_teacher(config.teacher)
    tokenizer = load_tokenizer(location)
    teacher, with_head = load_teacher(location)
    weights = config.weights if with_head else config.weights.hidden_only()
    if not with_head:
        say(f"the teacher {config.teacher!r} has no masked-LM head: distilling its hidden states only "
            f"(cosine and MSE of the last hidden states), the MLM terms are off")
    corpus = load_corpus(config.corpus, tokenizer)
    say(f"corpus: {corpus.documents} documents, {corpus.tokens} tokens in {len(corpus.train)} training sequences")
    set_seed(config.train.seed)
    layers = config.layers or max(1, teacher.config.num_hidden_layers // 2)
    student, mapping = build_mlm_student(teacher, layers)
    vocabulary = Vocabulary(student.config.vocab_size, tokenizer.mask_token_id, tuple(tokenizer.all_special_ids))
    frequencies = token_weights(corpus.train, vocabulary, config.masking.smoothing) if config.masking.smoothing else None

    def collator(seed: int) -> MaskingCollator:
        return MaskingCollator(tokenizer.pad_token_id, vocabulary, config.masking, seed, frequencies, mask=with_head)

    # without the MLM terms only the encoder trains: the vocabulary projection is not even computed
    trained = student if with_head else student.distilbert
    result = train_general(trained, teacher, tokenizer, corpus.train, collator(config.train.seed), config.train,
                           weights, mapping, config.intermediate, out / "checkpoints" / "student", out / "logs")
    if not is_main_process():
        barrier()
        return None
    folder = out / "student"
    student.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    info = {"kind": "general", "teacher": config.teacher, "teacher_has_mlm_head": with_head,
            "student_layers": layers, "layer_map": mapping, "corpus": corpus.description(config.corpus),
            "weights": asdict(weights), "masking": asdict(config.masking), "intermediate": config.intermediate}
    write_general_info(folder, info)
    # where the trainer left the trained modules; without the MLM terms the encoder alone is measured
    held = held_out_metrics(teacher, trained, with_head, corpus.held_out, collator(config.train.seed + 1),
                            device_of(trained), config.eval_batch_size)
    report = {**info, "training": training_summary(result), "held_out": held,
              "plots": [reporting.plot_terms(result.history, out)],
              "wall_seconds": round(time.perf_counter() - start, 1)}
    reporting.write_report(report, out)
    barrier()
    return report
