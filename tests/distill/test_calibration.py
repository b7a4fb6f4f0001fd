"""The calibration inputs a student carries: a seeded sample of training inputs, padding cut."""

from __future__ import annotations

from distill.calibration import CALIBRATION_FILE, read_calibration, write_calibration


def test_written_inputs_read_back_without_their_padding(tmp_path):
    dataset = [{"input_ids": [2, 10 + i, 3, 0, 0], "attention_mask": [1, 1, 1, 0, 0], "labels": i % 2}
               for i in range(10)] + [{"input_ids": [2, 7, 3]}]
    assert write_calibration(tmp_path, dataset, seed=1, size=8) == 8
    read = read_calibration(tmp_path)
    assert len(read) == 8 and all(ids[0] == 2 and ids[-1] == 3 and 0 not in ids for ids in read)
    assert write_calibration(tmp_path / ".." / tmp_path.name, dataset, seed=1, size=8) == 8
    assert read_calibration(tmp_path) == read  # seeded: the same sample again


def test_a_student_without_the_file_has_none(tmp_path):
    assert read_calibration(tmp_path) is None
    (tmp_path / CALIBRATION_FILE).write_text("")
    assert read_calibration(tmp_path) is None
