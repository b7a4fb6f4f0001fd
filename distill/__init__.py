"""Offline half: distil a BERT teacher into a DistilBERT student and export it to ONNX."""

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("distilserve")
    except PackageNotFoundError:
        return "0.0.0"
