"""``pathscaat infer`` in a terminal: a closing summary, a stain warning, no empty folders."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from pathscaat.cli.main import main
from tests.core.test_predict import CLASSES, make_checkpoint


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("summary-ckpt"))


def _infer(slide: Path, ckpt: Path, out: Path, *extra: str) -> list[str]:
    return ["infer", str(slide), "--model", str(ckpt), "--out", str(out), "--device", "cpu",
            "--saliency", "none", "--workers", "1", *extra]


def test_summary_names_tiles_classes_time_and_app_command(
    cmu_svs: Path, ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(_infer(cmu_svs, ckpt, out, "--progress", "none")) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    n_rows = len((out / "tiles.csv").read_text().splitlines()) - 1
    assert lines[0].startswith(f"{n_rows} tiles scored in ")
    found = dict(part.rsplit(" ", 1) for part in lines[0].split("predicted classes: ")[1]
                 .split(", "))
    assert set(found) <= set(CLASSES) and sum(map(int, found.values())) == n_rows
    assert shlex.split(lines[-1]) == ["pathscaat-gui", str(cmu_svs), "--overlays", str(out)]
    assert "warning" not in captured.err  # H&E slide, brightfield model


def test_fluorescence_slide_warns_that_the_stain_differs(
    dapi_ndpi: Path, ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_infer(dapi_ndpi, ckpt, tmp_path / "out", "--progress", "json")) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warnings = [e["extra"]["warning"] for e in events if e.get("extra", {}).get("warning")]
    assert len(warnings) == 1 and "stain differs" in warnings[0] and "fluorescence" in warnings[0]
    assert events[0]["stage"] == "stain"  # said before the long run, not after it
    result = events[-1]
    assert result["type"] == "result" and result["tiles"] == sum(result["class_counts"].values())


@pytest.mark.parametrize("argv_of", [
    lambda slide, ckpt, out: _infer(slide, ckpt.with_name("absent"), out),
    lambda slide, ckpt, out: _infer(slide, ckpt, out, "--saliency", "bogus"),
    lambda slide, ckpt, out: ["tiles", str(slide), "--out", str(out), "--mpp", "0.5"],
], ids=["infer-bad-model", "infer-bad-saliency", "tiles-corrupt-slide"])
def test_failed_runs_leave_no_empty_output_folder(
    cmu_svs: Path, ckpt: Path, tmp_path: Path, argv_of: object
) -> None:
    broken = tmp_path / "broken.svs"
    broken.write_bytes(cmu_svs.read_bytes()[:40_000])
    slide = broken if "tiles" in argv_of(cmu_svs, ckpt, tmp_path)[0] else cmu_svs  # type: ignore[operator]
    out = tmp_path / "new" / "out"
    assert main(argv_of(slide, ckpt, out)) == 1  # type: ignore[operator]
    assert not (tmp_path / "new").exists()


def test_failed_run_keeps_an_existing_folder_and_its_files(
    cmu_svs: Path, ckpt: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(_infer(cmu_svs, ckpt.with_name("absent"), out)) == 1
    assert (out / "notes.txt").read_text() == "keep me"
