"""Tiny models and data for tests: random BERT teachers and a word-level WordPiece vocabulary.

Nothing here is downloaded; everything is built in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

POSITIVE = [
    "a wonderful and moving film",
    "the acting is superb and the story is great",
    "i loved every minute of it",
    "a delightful charming comedy",
    "brilliant direction and a great cast",
    "the best movie of the year",
    "warm funny and beautifully made",
    "an excellent heartfelt drama",
    "great music and wonderful characters",
    "a joyful surprising delight",
    "superb writing and a lovely ending",
    "i enjoyed it a lot , truly great",
]
NEGATIVE = [
    "a dull and boring film",
    "the acting is terrible and the story is bad",
    "i hated every minute of it",
    "a tedious lifeless comedy",
    "awful direction and a weak cast",
    "the worst movie of the year",
    "cold unfunny and badly made",
    "a dreadful pointless drama",
    "bad music and annoying characters",
    "a miserable predictable mess",
    "clumsy writing and a stupid ending",
    "i disliked it a lot , truly bad",
]


def labelled_sentences() -> list[tuple[str, str]]:
    """24 short reviews with string labels, alternating positive and negative."""
    rows: list[tuple[str, str]] = []
    for pos, neg in zip(POSITIVE, NEGATIVE):
        rows += [(pos, "positive"), (neg, "negative")]
    return rows


def vocabulary(extra_texts: list[str] | None = None) -> list[str]:
    words = {w for text, _ in labelled_sentences() for w in text.lower().split()}
    for text in extra_texts or []:
        words.update(text.lower().split())
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = [f"##{c}" for c in letters] + list("0123456789.,!?'\"-")
    # single letters and punctuation can also be words of the texts: each token once, so ids < len
    return list(dict.fromkeys(SPECIAL_TOKENS + sorted(words) + letters + pieces))


def write_tokenizer(folder: Path, extra_texts: list[str] | None = None, max_len: int = 64):
    """Save a lower-casing BERT WordPiece fast tokenizer (with tokenizer.json) into `folder`."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(vocabulary(extra_texts))}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_len,
    )
    fast.save_pretrained(str(folder))
    return fast


def bert_config(vocab_size: int, layers: int = 4, hidden: int = 32, num_labels: int | None = None):
    """A tiny random BERT config: `layers` layers, hidden 32, 2 heads, 64 positions."""
    from transformers import BertConfig

    kwargs = {}
    if num_labels is not None:
        kwargs.update(
            num_labels=num_labels,
            id2label={0: "negative", 1: "positive"} if num_labels == 2 else None,
        )
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=64,
        type_vocab_size=2,
        **kwargs,
    )


def write_teacher(folder: Path, layers: int = 4, with_head: bool = False, seed: int = 0,
                  texts: list[str] | None = None) -> Path:
    """Save a tiny random BERT (base encoder, or with a 2-label classification head) and its
    tokenizer (whose vocabulary also covers the words of `texts`) into `folder`, like a checkpoint
    a user would pass as `--teacher PATH`."""
    import torch
    from transformers import BertForSequenceClassification, BertModel

    folder = Path(folder)
    tokenizer = write_tokenizer(folder, texts)
    torch.manual_seed(seed)
    if with_head:
        model = BertForSequenceClassification(bert_config(len(tokenizer), layers, num_labels=2))
    else:
        model = BertModel(bert_config(len(tokenizer), layers))
    model.save_pretrained(str(folder))
    return folder


def write_csv(path: Path, rows: list[tuple[str, str]], text_col: str = "text", label_col: str = "label") -> Path:
    import csv

    path = Path(path)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([text_col, label_col])
        writer.writerows(rows)
    return path


def validation_rows() -> list[tuple[str, str]]:
    """72 labelled reviews of 4 to about 30 words: the 24 sentences, then pairs and triples of
    same-label sentences joined together, so padded batches mix very different lengths."""
    base = labelled_sentences()
    pos = [t for t, label in base if label == "positive"]
    neg = [t for t, label in base if label == "negative"]
    rows = list(base)
    for i in range(len(pos)):
        rows += [(f"{pos[i]} , {pos[(i + 5) % len(pos)]}", "positive"),
                 (f"{neg[i]} , {neg[(i + 5) % len(neg)]}", "negative")]
        rows += [(f"{pos[i]} , {pos[(i + 3) % len(pos)]} and {pos[(i + 7) % len(pos)]}", "positive"),
                 (f"{neg[i]} , {neg[(i + 3) % len(neg)]} and {neg[(i + 7) % len(neg)]}", "negative")]
    return rows


def write_student(folder: Path, train_steps: int = 40, seed: int = 0, max_seq_len: int = 48,
                  teacher_dir: Path | None = None) -> Path:
    """A student checkpoint as `distill export` reads it: a tiny 2-layer
    DistilBertForSequenceClassification (dim 32), briefly fitted on `validation_rows()` so its
    predictions are not coin flips, with tokenizer files, distill_info.json and validation.jsonl."""
    import json

    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    folder = Path(folder)
    tokenizer = write_tokenizer(folder, max_len=64)
    labels = ["negative", "positive"]
    config = DistilBertConfig(
        vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=64, num_labels=2, pad_token_id=0,
        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
    )
    torch.manual_seed(seed)
    model = DistilBertForSequenceClassification(config)
    rows = validation_rows()
    _fit(model, tokenizer, rows, labels, train_steps)
    model.eval().save_pretrained(str(folder))
    info = {
        "task": "text-classification", "teacher": "tiny-bert-teacher",
        "teacher_dir": str(teacher_dir) if teacher_dir else None,
        "student_layers": 2, "layer_map": [0, 2], "max_seq_len": max_seq_len,
        "labels": labels, "metrics": {"student_accuracy": None},
    }
    (folder / "distill_info.json").write_text(json.dumps(info, indent=2))
    with open(folder / "validation.jsonl", "w") as handle:
        for text, label in rows:
            handle.write(json.dumps({"text": text, "label": label}) + "\n")
    return folder


def _fit(model, tokenizer, rows, labels, steps: int) -> None:
    import torch

    if steps <= 0:
        return
    batch = tokenizer([t for t, _ in rows], padding=True, return_tensors="pt")
    target = torch.tensor([labels.index(label) for _, label in rows])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                     labels=target).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def write_teacher_without_dropout(folder: Path, layers: int = 4, with_head: bool = True, seed: int = 0) -> Path:
    """Like `write_teacher`, with every dropout probability 0, so training is deterministic given
    the data order (what a one-process vs two-process comparison needs)."""
    import json

    folder = write_teacher(folder, layers=layers, with_head=with_head, seed=seed)
    config_path = Path(folder) / "config.json"
    config = json.loads(config_path.read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config_path.write_text(json.dumps(config, indent=2))
    return folder


def write_jsonl(path: Path, rows: list[tuple[str, object]], text_key: str = "text", label_key: str = "label") -> Path:
    import json

    path = Path(path)
    path.write_text("".join(json.dumps({text_key: t, label_key: y}) + "\n" for t, y in rows))
    return path
