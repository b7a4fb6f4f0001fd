"""The results writer of the benchmarks: a section replaced in place, the others kept; the command
that reruns a benchmark; the JSON beside it."""

from __future__ import annotations

import json

from bench.harness.results import command_line, publish, write_section

DOC = """# Results

## GPU (CUDA)

old numbers

## GPU (CUDA): reading the runs

what they mean

## Other

kept
"""


def test_a_section_is_replaced_in_place_and_a_longer_heading_left_alone(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(DOC)
    write_section("## GPU (CUDA)", "## GPU (CUDA)\n\nnew numbers\n", results)
    text = results.read_text()
    assert "new numbers" in text and "old numbers" not in text
    assert "## GPU (CUDA): reading the runs\n\nwhat they mean" in text
    assert text.count("## GPU (CUDA)\n") == 1 and text.endswith("## Other\n\nkept\n")


def test_a_new_section_is_appended(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(DOC)
    write_section("## New", "## New\n\nfirst run\n", results)
    assert results.read_text().startswith(DOC.rstrip("\n")) and results.read_text().endswith("## New\n\nfirst run\n")


def test_the_command_reruns_the_module_and_quotes_its_arguments():
    assert command_line("bench.serving.options", ["--system", "2 workers=--workers 2"]) == \
        "python -m bench.serving.options --system '2 workers=--workers 2'"
    assert command_line("bench.distill.sst2", [], python=".venv/bin/python") == ".venv/bin/python -m bench.distill.sst2"


def test_publish_writes_the_json_and_the_section(tmp_path):
    publish("## Run", "## Run\n\ntable\n", tmp_path / "R.md", tmp_path / "out" / "run.json", {"a": 1})
    assert json.loads((tmp_path / "out" / "run.json").read_text()) == {"a": 1}
    assert "## Run\n\ntable" in (tmp_path / "R.md").read_text()
