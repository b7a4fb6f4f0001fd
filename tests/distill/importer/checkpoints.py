"""Tiny Hugging Face checkpoints of each supported family, saved with save_pretrained as a user's
would be: random weights (hidden 32, 2 layers), a WordPiece vocabulary (BERT, DistilBERT), a
byte-level BPE (RoBERTa) or a Unigram model (XLM-RoBERTa) trained here, offline, on a few sentences."""

from __future__ import annotations

from pathlib import Path

from distill.importer.samples import QA_PROBES, movie_sentences
from tests.tiny import write_tokenizer

FAMILIES = ("bert", "distilbert", "roberta", "xlm-roberta")
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
ROBERTA_SPECIAL = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
MAX_TOKENS = 512  # as real checkpoints of these families: the QA windows get the pipeline's lengths
ROBERTA_OFFSET = 2  # RoBERTa and XLM-R: positions start after the padding index


def corpus() -> list[str]:
    texts = movie_sentences(128)
    return texts + [text for probe in QA_PROBES for text in probe]


def _roberta_tokenizer(folder: Path, unigram: bool):
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors, trainers
    from tokenizers.models import BPE, Unigram
    from transformers import PreTrainedTokenizerFast

    if unigram:
        tok = Tokenizer(Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=400, special_tokens=ROBERTA_SPECIAL, unk_token="<unk>")
    else:
        tok = Tokenizer(BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=ROBERTA_SPECIAL,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
                                   model_max_length=MAX_TOKENS)
    fast.save_pretrained(str(folder))
    return fast


def write_tokenizer_of(family: str, folder: Path):
    if family in ("bert", "distilbert"):
        return _bert_tokenizer(folder, family)
    return _roberta_tokenizer(folder, unigram=family == "xlm-roberta")


def _bert_tokenizer(folder: Path, family: str):
    """The WordPiece tokenizer as the family's own class: BERT's gives a pair token types (0, then 1),
    DistilBERT's none."""
    from transformers import BertTokenizerFast, DistilBertTokenizerFast

    write_tokenizer(folder, corpus(), max_len=MAX_TOKENS)
    kind = DistilBertTokenizerFast if family == "distilbert" else BertTokenizerFast
    tokenizer = kind(tokenizer_file=str(folder / "tokenizer.json"), model_max_length=MAX_TOKENS)
    tokenizer.save_pretrained(str(folder))
    return tokenizer


def config_of(family: str, vocab_size: int, pad_id: int, **head):
    from transformers import AutoConfig

    if family == "distilbert":
        return AutoConfig.for_model("distilbert", vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                                    max_position_embeddings=MAX_TOKENS, pad_token_id=pad_id, **head)
    positions = MAX_TOKENS + (0 if family == "bert" else ROBERTA_OFFSET)
    types = 2 if family == "bert" else 1
    return AutoConfig.for_model(family, vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=64, max_position_embeddings=positions, type_vocab_size=types,
                                pad_token_id=pad_id, **head)


HEADS = {
    "classification": ("AutoModelForSequenceClassification",
                       {"num_labels": 3, "id2label": {0: "negative", 1: "neutral", 2: "positive"}}),
    "regression": ("AutoModelForSequenceClassification", {"num_labels": 1, "problem_type": "regression"}),
    "qa": ("AutoModelForQuestionAnswering", {}),
    "tokens": ("AutoModelForTokenClassification", {"num_labels": len(TAGS), "id2label": dict(enumerate(TAGS))}),
    "encoder": ("AutoModel", {}),
}


def write_checkpoint(folder: Path, family: str, head: str, seed: int = 0, safetensors: bool = True) -> Path:
    """A random `family` model with `head` and its tokenizer, saved into `folder`."""
    import torch
    import transformers

    tokenizer = write_tokenizer_of(family, folder)
    auto, extra = HEADS[head]
    config = config_of(family, len(tokenizer), tokenizer.pad_token_id, **extra)
    torch.manual_seed(seed)
    model = getattr(transformers, auto).from_config(config).eval()
    model.save_pretrained(str(folder), safe_serialization=safetensors)
    return folder
