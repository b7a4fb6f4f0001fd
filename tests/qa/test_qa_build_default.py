"""`distill build-default --qa-data`: its options, the expected-duration estimate and refusals."""

import pytest
from typer.testing import CliRunner

from distill.cli import app
from distill.cli.default import qa_expected_seconds

runner = CliRunner()


def test_qa_options_are_explained():
    result = runner.invoke(app, ["build-default", "--help"])
    assert result.exit_code == 0 and "--qa-data" in result.output and "--qa-max-train-examples" in result.output


def test_expected_duration_grows_with_questions_and_epochs():
    small, large = qa_expected_seconds(400, 2, 2, 16), qa_expected_seconds(4000, 2, 2, 16)
    assert 0 < small < large
    assert qa_expected_seconds(400, 1, 1, 16) < small


def test_existing_models_are_kept_unless_forced(tmp_path, squad_v1):
    (tmp_path / "sentiment").mkdir()
    (tmp_path / "qa").mkdir()
    result = runner.invoke(app, ["build-default", "--output", str(tmp_path), "--qa-data", str(squad_v1)])
    assert result.exit_code == 2 and "qa already exists" in result.output and "--force" in result.output


@pytest.mark.parametrize("data", ["missing.json"])
def test_bad_qa_data_is_a_one_line_error(tmp_path, data):
    (tmp_path / "sentiment").mkdir()
    result = runner.invoke(app, ["build-default", "--output", str(tmp_path), "--qa-data", str(tmp_path / data)])
    assert result.exit_code == 2 and "SQuAD file not found" in result.output and "Traceback" not in result.output
