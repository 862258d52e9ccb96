"""``pathscaat demo --quick`` end to end (in-process): every output exists and loads."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from pathscaat.cli.demo_report import accuracy_text, reading
from pathscaat.cli.main import main
from pathscaat.demo import QUICK, run_demo
from pathscaat.progress import JobCancelled


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    """One quick demo (JSON progress), shared by the tests below: (out dir, events)."""
    import io
    from contextlib import redirect_stdout

    out = tmp_path_factory.mktemp("demo") / "out"
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["demo", "--quick", "--out", str(out), "--progress", "json", "--threads", "1"])
    assert rc == 0
    events = [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{")]
    return out, events


def test_slide_and_tiles(demo_run: tuple[Path, list[dict[str, object]]]) -> None:
    out, _ = demo_run
    with (out / "tiles" / "patches" / "manifest.csv").open() as fh:
        labels = {r["label"] for r in csv.DictReader(fh)}
    assert labels <= {"benign", "atypical", "inflamed"} and "benign" in labels
    regions = json.loads((out / "synthetic-slide.regions.json").read_text())
    assert regions["software"] == "PathSCAAT synthetic"
    synthetic = json.loads((out / "patches" / "synthetic.json").read_text())
    assert synthetic["size_px"] == QUICK.patch_px
    assert len(list((out / "patches" / "masks").rglob("*.png"))) == 3 * QUICK.per_class


def test_checkpoints_load_with_the_models_scale(
    demo_run: tuple[Path, list[dict[str, object]]],
) -> None:
    from pathscaat.models import load_checkpoint

    out, _ = demo_run
    for objective in ("erm", "scaat"):
        model, meta = load_checkpoint(out / "models" / objective / "last")
        assert meta.objective == objective and meta.backbone == QUICK.backbone
        assert meta.input_px == QUICK.input_px and meta.epoch == QUICK.epochs
        assert meta.mpp is not None and math.isclose(meta.mpp, QUICK.model_mpp)
        assert meta.class_names == ["atypical", "benign", "inflamed"]
        assert not model.training


def test_evaluation_outputs(demo_run: tuple[Path, list[dict[str, object]]]) -> None:
    out, _ = demo_run
    ev = out / "evaluation"
    metrics = json.loads((ev / "metrics.json").read_text())
    assert metrics["format"] == "pathscaat-evaluation"
    assert [m["objective"] for m in metrics["models"]] == ["erm", "scaat"]
    for entry in metrics["models"]:
        assert {"accuracy", "balanced_accuracy", "methods", "random"} <= set(entry)
        summary = entry["methods"]["vanilla"]["summary"]
        assert {"gini", "relevance_mass", "deletion_auc_blur"} <= set(summary)
    assert (ev / "report.md").read_text().startswith("# Saliency quality report")
    assert list(ev.glob("*.png"))


def test_inference_overlays_fit_the_slide(
    demo_run: tuple[Path, list[dict[str, object]]],
) -> None:
    from pathscaat.inference.overlays import OverlaySet
    from pathscaat.slides import open_slide

    out, _ = demo_run
    overlays = OverlaySet.load(out / "inference")
    kinds = {o.kind for o in overlays.overlays}
    assert {"saliency", "probability"} <= kinds
    assert overlays.classes == ["atypical", "benign", "inflamed"]
    for info in overlays.overlays:
        assert overlays.path_of(info).is_file()
    with open_slide(out / "synthetic-slide.tif") as slide:
        assert tuple(overlays.slide_dims) == slide.dimensions
        assert slide.mpp is not None
        tile_l0 = QUICK.model_mpp / slide.mpp.x * QUICK.input_px  # the model's footprint
    with (out / "inference" / "tiles.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows  # the slide was read at the model's scale: a patch's footprint per tile
    assert all(float(r["l0_w"]) == pytest.approx(tile_l0) for r in rows)
    assert tile_l0 == pytest.approx(QUICK.patch_px)


def test_result_event_names_everything(demo_run: tuple[Path, list[dict[str, object]]]) -> None:
    out, events = demo_run
    result = [e for e in events if e["type"] == "result"]
    assert len(result) == 1
    res = result[0]
    assert res["gui_command"] == (
        f"pathscaat-gui {out / 'synthetic-slide.tif'} --overlays {out / 'inference'}"
    )
    comparison = res["comparison"]
    assert isinstance(comparison, dict) and set(comparison) == {"erm", "scaat"}
    steps = [e["message"] for e in events if e.get("stage") == "demo"]
    assert len(steps) == 8 and steps[-1] == "done"


def test_cancel_keeps_what_was_written(tmp_path: Path) -> None:
    calls = []

    def stop_after_first_step() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(JobCancelled, match="read_info"):
        run_demo(tmp_path, profile=QUICK, threads=1, should_stop=stop_after_first_step)
    assert (tmp_path / "synthetic-slide.tif").is_file()
    assert not (tmp_path / "models").exists()


def test_reading_is_honest_about_accuracy() -> None:
    erm = {"accuracy": 0.9, "gini": 0.5, "relevance_mass": 0.4}
    better = {"accuracy": 0.9, "gini": 0.6, "relevance_mass": 0.5}
    text = reading({"erm": erm, "scaat": better}, 30)
    assert "sparser (+0.100)" in text and "within 1 point" in text and "not evidence" in text
    worse = {**better, "accuracy": 0.8}
    assert "lower" in reading({"erm": erm, "scaat": worse}, 30)


@pytest.mark.parametrize("erm_acc,scaat_acc", [
    (0.883, 0.900), (0.900, 0.883), (0.900, 0.895), (0.90, 0.89), (0.5, 0.5), (0.8, 0.95),
])
def test_demo_reading_and_report_apply_one_rule(erm_acc: float, scaat_acc: float) -> None:
    """The demo printed "within 1 point (+0.017)" while report.md refused ERM's claims."""
    from pathscaat.evaluation.report import accuracy_warnings

    text = accuracy_text(erm_acc, scaat_acc)
    warnings = accuracy_warnings({"models": [{"name": "models/erm", "accuracy": erm_acc},
                                             {"name": "models/scaat", "accuracy": scaat_acc}]})
    assert ("within 1 point" in text) == (not warnings)
    if warnings:
        loser = "ERM" if erm_acc < scaat_acc else "SCAAT"
        assert f"{loser} is more than 1 point below" in text
        assert len(warnings) == 1 and f"models/{loser.lower()}" in warnings[0]
