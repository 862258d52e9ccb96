"""Progress written to a log or a pipe: plain lines, no rates; JSON lines unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathscaat.cli.main import main
from pathscaat.cli.reporting import ProgressPrinter
from pathscaat.progress import ProgressRecord


def test_piped_bar_prints_sparse_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    printer = ProgressPrinter("bar", tty=False)
    printer(ProgressRecord("infer", 5000, 6000, "5000 tiles from an earlier run"))
    for done in range(5001, 6001):  # a resumed job: most of it done "in no time"
        printer(ProgressRecord("infer", done, 6000, "12.5 tiles/s"))
    printer.close()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and "it/s" not in err and "\x1b" not in err
    assert lines[0] == "infer: 5000/6000 (83%) 5000 tiles from an earlier run"
    assert lines[-1] == "infer: 6000/6000 (100%) 12.5 tiles/s"
    assert len(lines) <= 4  # 83%, 90%, 100%: a line per 10 points, not one per record


def test_json_progress_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    printer = ProgressPrinter("json", tty=False)
    printer(ProgressRecord("tiling", 1, 3, "grid", {"k": 1}))
    event = json.loads(capsys.readouterr().out)
    assert event == {"type": "progress", "stage": "tiling", "done": 1, "total": 3,
                     "message": "grid", "extra": {"k": 1}}


def test_tiles_bar_into_a_pipe_has_no_rates(
    cmu_svs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["tiles", str(cmu_svs), "--mpp", "2", "--size", "64", "--out", str(tmp_path),
            "--extract", "--workers", "1"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "it/s" not in err and "\r" not in err
    assert any(line.startswith("tiling: 3/3 (100%)") for line in err.splitlines())


def test_piped_record_of_unknown_total_is_just_its_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = ProgressPrinter("bar", tty=False)
    printer(ProgressRecord("grid", 0, 0, "the slide has no µm/px"))
    assert capsys.readouterr().err == "grid: the slide has no µm/px\n"
