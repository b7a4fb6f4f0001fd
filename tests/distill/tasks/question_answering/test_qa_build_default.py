"""`distill build-default --qa-data`: its options, the expected-duration estimate and refusals."""

import pytest
from typer.testing import CliRunner

from distill.cli import app
from distill.tasks.question_answering.recipe import QARecipe, expected_seconds

runner = CliRunner()


def test_qa_options_are_explained():
    result = runner.invoke(app, ["build-default", "--help"])
    assert result.exit_code == 0
    for option in ("--qa-data", "--qa-validation", "--qa-max-train-examples", "--qa-max-seq-len", "--qa-epochs",
                   "--qa-teacher-epochs", "--qa-keep-answerless"):
        assert option in result.output


def test_expected_duration_grows_with_questions_and_epochs():
    recipe = QARecipe()
    small, large = expected_seconds(recipe, 400, 100), expected_seconds(recipe, 4000, 100)
    assert 0 < small < large
    assert expected_seconds(QARecipe(teacher_epochs=1, epochs=1), 400, 100) < small
    assert expected_seconds(recipe, 400, 100) < expected_seconds(recipe, 400, 1000)


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
