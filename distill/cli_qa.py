"""The question-answering branches of the `distill` commands (`--task question-answering`)."""

from __future__ import annotations

from pathlib import Path

from distill import pipeline, qa_pipeline
from distill.evaluate import EvalConfig
from distill.qa_evaluate import QAEvalConfig
from distill.qa_pipeline import QAOptions
from distill.tasks.qa_data import QADataConfig, load_qa_data
from distill.teacher import TeacherError, has_span_head, resolve_teacher
from distill.trainer import TrainConfig


def teacher(name: str, data: QADataConfig, options: QAOptions, config: TrainConfig, output: Path) -> pipeline.Teacher:
    """Fine-tune the teacher's span head; saves OUTPUT/teacher."""
    loaded = load_qa_data(data)
    return qa_pipeline.finetune_span_teacher(name, loaded, qa_pipeline.with_impossible(options, loaded), config,
                                             output / "teacher")


def student(name: str, data: QADataConfig, options: QAOptions, config: TrainConfig,
            choice: pipeline.StudentConfig, output: Path) -> pipeline.StudentResult:
    """Distil a span student from a teacher that already has a span head; saves OUTPUT/student."""
    loaded = load_qa_data(data)
    if not has_span_head(resolve_teacher(name)):
        raise TeacherError(f"teacher {name!r} has no question-answering head; run `distill teacher "
                           "--task question-answering` first (or `distill run`)")
    options = qa_pipeline.with_impossible(options, loaded)
    found = qa_pipeline.obtain_span_teacher(name, loaded, options, config, output / "teacher")
    return qa_pipeline.distill_span_student(found, loaded, options, config, choice, output / "student", output)


def evaluate(folder: Path, info: dict, teacher_location: str, output: Path) -> dict:
    """Evaluate teacher and student on the student's validation_qa.jsonl; writes OUTPUT/report.*."""
    from transformers import AutoModelForQuestionAnswering

    examples = qa_pipeline.read_qa_validation(folder)
    options = qa_pipeline.options_of(info)
    tutor = AutoModelForQuestionAnswering.from_pretrained(teacher_location)
    pupil = AutoModelForQuestionAnswering.from_pretrained(str(folder))
    tokenizer = pipeline.load_tokenizer(str(folder))
    config = QAEvalConfig(options.windows, options.spans, EvalConfig(options.windows.max_seq_len))
    rows = qa_pipeline.evaluate_span_pair(tutor, pupil, tokenizer, examples, config)
    pipeline.update_student_metrics(folder, rows)
    data = {"source": qa_pipeline.VALIDATION_FILE, "validation_examples": len(examples)}
    return pipeline.build_report(info, data, rows, {}, output, {})
