"""A model never reads a slide at a scale nobody chose, and every run says the scale it used.

Small generated TIFF slides, one with resolution tags (0.5 µm/px) and one without, and tiny
random checkpoints with and without a recorded µm/px: a slide without µm/px under a model
with one is refused (API, ``infer``, ``infer-cohort`` row) with the remedy; a µm/px given
on the command line, by the app or by a project is used and recorded with its source.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pathscaat.inference.overlays import OverlaySet
from pathscaat.inference.predict import predict_slide
from pathscaat.inference.scale import (
    MissingScaleError,
    ModelScale,
    RunScale,
    SlideMpp,
    checkpoint_scale,
)
from pathscaat.progress import PathscaatError
from pathscaat.slides import open_slide
from tests.core.test_predict import INPUT_PX, MODEL_MPP, make_checkpoint

SLIDE_MPP = 0.5


def write_slide(path: Path, mpp: float | None, size: tuple[int, int] = (256, 320)) -> Path:
    """A pink tissue-like TIFF, with resolution tags for ``mpp`` or none at all."""
    rng = np.random.default_rng(3)
    pink = np.array([200, 120, 170], np.uint8) + rng.integers(0, 40, (*size, 3), np.uint8)
    res = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"} if mpp else {}
    tifffile.imwrite(path, pink, photometric="rgb", **res)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def slides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scale-slides")
    write_slide(folder / "known.tif", SLIDE_MPP)
    write_slide(folder / "unknown.tif", None)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(checkpoint at MODEL_MPP µm/px, checkpoint without a µm/px)."""
    root = tmp_path_factory.mktemp("scale-models")
    return make_checkpoint(root / "with"), make_checkpoint(root / "without", mpp=None)


def test_the_fixture_slides_are_what_they_claim(slides: Path) -> None:
    with open_slide(slides / "known.tif") as known, open_slide(slides / "unknown.tif") as unknown:
        assert known.mpp is not None and known.mpp.x == pytest.approx(SLIDE_MPP)
        assert unknown.mpp is None and unknown.objective_power is None


def test_slide_without_mpp_under_a_model_with_one_is_refused(
    slides: Path, models: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(MissingScaleError) as err:
        predict_slide(slides / "unknown.tif", models[0], tmp_path / "out", device="cpu")
    text = str(err.value)
    assert "unknown.tif" in text and f"{MODEL_MPP:g} µm/px" in text
    assert "--slide-mpp" in text and "Set µm/px" in text
    assert not (tmp_path / "out" / "overlays.json").exists()


def test_a_given_mpp_is_used_and_recorded_with_its_source(
    slides: Path, models: tuple[Path, Path], tmp_path: Path
) -> None:
    notes: list[str] = []
    result = predict_slide(
        slides / "unknown.tif", models[0], tmp_path / "out", device="cpu", saliency=None,
        slide_mpp=1.0, slide_mpp_source="user", on_progress=lambda r: notes.append(r.stage),
    )  # fmt: skip
    scale = OverlaySet.load(tmp_path / "out").scale
    assert scale is not None and scale == result.scale
    assert scale["slide_mpp"] == 1.0 and scale["slide_mpp_source"] == "user"
    assert scale["read_mpp"] == pytest.approx(MODEL_MPP)
    assert scale["field_um"] == pytest.approx(MODEL_MPP * INPUT_PX)
    assert "user-set in the app" in result.scale_text and "the model's" in result.scale_text
    rows = list(csv.DictReader((tmp_path / "out" / "tiles.csv").open()))
    assert float(rows[0]["l0_w"]) == pytest.approx(MODEL_MPP * INPUT_PX / 1.0)  # 4x level 0
    assert "scale" in notes


def test_model_without_mpp_says_which_scale_it_read(
    slides: Path, models: tuple[Path, Path], tmp_path: Path
) -> None:
    warnings: list[str] = []
    result = predict_slide(
        slides / "known.tif", models[1], tmp_path / "out", device="cpu", saliency=None,
        on_progress=lambda r: warnings.append(str(r.extra.get("warning", ""))),
    )  # fmt: skip
    assert any("records no µm/px" in w and f"{SLIDE_MPP:g} µm/px" in w for w in warnings)
    assert result.scale is not None
    assert result.scale["read_mpp"] == pytest.approx(SLIDE_MPP)
    assert result.scale["slide_mpp_source"] == "metadata"
    assert "TIFF resolution tags" in result.scale_text and "level 0" in result.scale_text


def test_flag_over_the_files_own_mpp_says_both() -> None:
    class FakeNative:  # the slide API's two fields that matter here
        native_mpp = type("M", (), {"x": 0.499, "source": "openslide", "note": ""})()

    flag = SlideMpp.of_slide(FakeNative(), 0.25, "flag")
    assert (flag.um, flag.source) == (0.25, "flag") and "0.499" in flag.detail
    kept = SlideMpp.of_slide(FakeNative(), 0.25, "flag", only_if_missing=True)
    assert (kept.um, kept.source, kept.detail) == (0.499, "metadata", "OpenSlide")
    with pytest.raises(PathscaatError, match="positive"):
        SlideMpp.of_slide(FakeNative(), -1.0, "flag")


def test_scale_record_round_trips_and_checkpoint_scale_reads_json(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    scale = RunScale(SlideMpp(0.5, "project"), 2.0, 32, 128.0)
    again = RunScale.from_dict(json.loads(json.dumps(scale.to_dict())))
    assert again == scale and again.read_mpp == 2.0 and again.field_um == 64.0
    assert checkpoint_scale(models[0]) == ModelScale(MODEL_MPP, INPUT_PX)
    assert checkpoint_scale(models[1].with_suffix(".safetensors")) == ModelScale(None, INPUT_PX)
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert checkpoint_scale(tmp_path / "bad.json") is None
    assert checkpoint_scale(tmp_path / "absent") is None


def test_empty_grid_names_min_tissue_and_a_tile_larger_than_the_slide(
    slides: Path, tmp_path: Path
) -> None:
    huge = make_checkpoint(tmp_path, mpp=16.0)  # 32 px at 16 µm/px: 512 µm tiles
    with pytest.raises(PathscaatError) as err:
        predict_slide(slides / "known.tif", huge, tmp_path / "out", device="cpu")
    text = str(err.value)
    assert "512 × 512 µm" in text and "Minimum tissue" in text and "--min-tissue" in text
    assert "larger than the whole slide" in text and "retrain" not in text  # 512 µm: usual
    with pytest.raises(PathscaatError, match="0 to 1"):
        predict_slide(slides / "known.tif", huge, tmp_path / "out", device="cpu", min_tissue=2)


def test_min_tissue_zero_scores_sparse_tissue(slides: Path, tmp_path: Path) -> None:
    from PIL import Image

    blank = np.full((256, 320, 3), 245, np.uint8)  # background and a thin strip of tissue
    blank[100:106, 40:280] = (180, 100, 160)  # a thin strip: under 50% of any 32 px tile
    Image.fromarray(blank).save(tmp_path / "speck.png")
    ckpt = make_checkpoint(tmp_path, mpp=None)
    with pytest.raises(PathscaatError, match="no tissue tiles"):
        predict_slide(tmp_path / "speck.png", ckpt, tmp_path / "a", device="cpu", saliency=None)
    result = predict_slide(tmp_path / "speck.png", ckpt, tmp_path / "b", device="cpu",
                           saliency=None, min_tissue=0.05)  # fmt: skip
    assert result.scale is not None and result.scale["slide_mpp"] is None


def _table(out: Path) -> dict[str, dict[str, str]]:
    with (out / "cohort.csv").open(newline="") as fh:
        return {row["folder"]: row for row in csv.DictReader(fh)}


def test_cohort_row_fails_with_the_remedy_and_the_flag_fills_in_only_what_is_missing(
    slides: Path, models: tuple[Path, Path], tmp_path: Path
) -> None:
    from pathscaat.inference.cohort import CohortSettings
    from pathscaat.inference.cohort_run import infer_cohort

    settings = CohortSettings(saliency=None, device="cpu", batch_size=8, read_threads=1)
    infer_cohort(slides, models[0], tmp_path / "a", settings)
    table = _table(tmp_path / "a")
    assert table["unknown"]["status"] == "failed" and "--slide-mpp" in table["unknown"]["error"]
    assert table["known"]["status"] == "done"
    assert (table["known"]["slide_mpp"], table["known"]["mpp_source"]) == ("0.5", "metadata")
    assert float(table["known"]["read_mpp"]) == pytest.approx(MODEL_MPP)
    flagged = CohortSettings(saliency=None, device="cpu", batch_size=8, read_threads=1,
                             slide_mpp=1.0)  # fmt: skip
    infer_cohort(slides, models[0], tmp_path / "b", flagged)
    table = _table(tmp_path / "b")
    assert (table["unknown"]["slide_mpp"], table["unknown"]["mpp_source"]) == ("1", "flag")
    assert (table["known"]["slide_mpp"], table["known"]["mpp_source"]) == ("0.5", "metadata")
    scale = OverlaySet.load(tmp_path / "b" / "unknown").scale
    assert scale is not None and "--slide-mpp flag" in scale["text"]


def test_cohort_of_a_project_uses_its_saved_overrides(
    slides: Path, models: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathscaat.cli.main import main
    from pathscaat.project import Project

    with Project.create(tmp_path / "proj") as project:
        for name in ("known.tif", "unknown.tif"):
            record, _ = project.add_slide(slides / name)
        project.set_mpp_override(record.id, 1.0)  # the unknown one, as the app saves it
    argv = ["infer-cohort", "--slides", f"project:{tmp_path / 'proj'}", "--model",
            str(models[0]), "--out", str(tmp_path / "out"), "--device", "cpu",
            "--saliency", "none", "--progress", "none"]  # fmt: skip
    assert main(argv) == 0
    table = _table(tmp_path / "out")
    assert [table[n]["status"] for n in ("known", "unknown")] == ["done", "done"]
    assert (table["unknown"]["slide_mpp"], table["unknown"]["mpp_source"]) == ("1", "project")
    assert table["known"]["mpp_source"] == "metadata"
    proj = str(tmp_path / "proj")
    assert main(["project", "add-run", proj, str(tmp_path / "out" / "unknown")]) == 0
    capsys.readouterr()
    assert main(["project", "list", proj]) == 0
    listed = capsys.readouterr()
    assert "scale: tiles read at 4 µm/px" in listed.out
    assert "slide 1 µm/px, the project's saved override" in listed.out
    assert "Traceback" not in listed.err


def test_infer_cli_refuses_with_the_flag_then_prints_the_scale(
    slides: Path, models: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathscaat.cli.main import main

    base = ["infer", str(slides / "unknown.tif"), "--model", str(models[0]), "--out",
            str(tmp_path / "out"), "--device", "cpu", "--saliency", "none"]  # fmt: skip
    assert main(base) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--slide-mpp" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert main([*base, "--slide-mpp", "1", "--progress", "none"]) == 0
    out = capsys.readouterr().out
    assert "scale:    tiles read at 4 µm/px, the model's (128 µm each)" in out
    assert "slide 1 µm/px, given with the --slide-mpp flag" in out
    assert main([*base, "--slide-mpp", "1", "--min-tissue", "1.5"]) == 1
    assert "0 to 1" in capsys.readouterr().err


def test_report_states_the_slide_and_run_scales(
    slides: Path, models: tuple[Path, Path], tmp_path: Path
) -> None:
    from shapely.geometry import box

    from pathscaat.annotations.export.report import write_report
    from pathscaat.annotations.model import Annotation
    from pathscaat.annotations.overlay_rasters import OverlayRasters

    predict_slide(slides / "unknown.tif", models[0], tmp_path / "run", device="cpu",
                  saliency=None, slide_mpp=1.0, slide_mpp_source="project")  # fmt: skip
    with open_slide(slides / "unknown.tif", mpp_override=1.0) as slide:
        slide.set_mpp(1.0, source="project")
        rasters = OverlayRasters(tmp_path / "run")
        report = write_report(tmp_path / "r.html", slide, [Annotation(box(10, 10, 90, 90))],
                              overlays=rasters)  # fmt: skip
    html = report.read_text("utf-8")
    assert "1 µm/px from project override" in html
    assert "the project&#x27;s saved override" in html and "tiles read at 4 µm/px" in html
