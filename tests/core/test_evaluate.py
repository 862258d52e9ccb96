"""End to end: checkpoints of a tiny model + a generated patch folder -> report, JSON, plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from pathscaat.cli.main import main
from pathscaat.data.synthetic import write_patch_set
from pathscaat.evaluation import EvalSettings, evaluate
from pathscaat.models import CheckpointMeta, create_model, save_checkpoint
from pathscaat.progress import JobCancelled, ProgressRecord

PX = 32


@pytest.fixture(scope="module")
def patches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_patch_set(tmp_path_factory.mktemp("syn"), n_per_class=3, size_px=40, seed=0)


def make_checkpoint(folder: Path, name: str, seed: int, split: dict | None = None) -> Path:
    torch.manual_seed(seed)
    model = create_model("test_resnet", 3)
    meta = CheckpointMeta(
        backbone="test_resnet",
        class_names=["atypical", "benign", "inflamed"],
        input_px=PX,
        mean=list(model.mean),
        std=list(model.std),
        objective=name,
        split=split or {},
    )
    return save_checkpoint(folder / name / "best", model, meta)


def test_evaluate_writes_report_metrics_and_plots(patches: Path, tmp_path: Path) -> None:
    images = sorted(
        p.relative_to(patches / "images").as_posix() for p in patches.glob("images/*/*.png")
    )
    split = {"train": images[:3], "val": [], "test": images[3:]}
    ckpts = [
        make_checkpoint(tmp_path, "erm", 0, split),
        make_checkpoint(tmp_path, "scaat", 1, split),
    ]
    records: list[ProgressRecord] = []
    settings = EvalSettings(
        sanity_images=2, sanity_checkpoints=2, method_kwargs={"smoothgrad": {"n_samples": 2}}
    )
    res = evaluate(
        ckpts, patches, ["vanilla", "smoothgrad"], tmp_path / "eval",
        settings=settings, grid_images=3, on_progress=records.append,
    )  # fmt: skip
    assert [r.done for r in records] == list(range(1, 7)) and records[-1].total == 6
    metrics = json.loads(res.metrics_json.read_text())
    assert [m["name"] for m in metrics["models"]] == ["erm/best", "scaat/best"]
    entry = metrics["models"][0]
    assert entry["images"]["n"] == 6 and entry["images"]["subset"].startswith("test split")
    summary = entry["methods"]["vanilla"]["summary"]
    for key in ("gini", "entropy", "deletion_auc_mean_diff", "insertion_auc", "sanity_rank_corr"):
        assert math.isfinite(summary[key]["mean"]), key
    assert 0 <= summary["relevance_mass"]["mean"] <= 1  # benign images (empty masks) left out
    assert summary["relevance_mass"]["n"] == 3  # the inflamed ones; atypical went to train
    assert len(entry["methods"]["vanilla"]["curves"]["deletion_blur"]) == len(
        metrics["fractions"]["deletion"]
    )
    report = res.report.read_text()
    assert "| erm/best | vanilla |" in report and "| scaat/best | smoothgrad |" in report
    names = {p.name for p in res.plots}
    assert {
        "deletion_mean.png",
        "insertion.png",
        "masked_accuracy.png",
        "saliency_erm_best.png",
    } <= names
    assert all(p.stat().st_size > 1000 for p in res.plots)
    # two models: the frontier artefacts bench_frontier writes, here for any checkpoints
    frontier = (tmp_path / "eval" / "frontier.md").read_text()
    assert "| erm | 0 |" in frontier and "frontier_syn" not in frontier
    assert any(p.name.startswith("frontier_") and p.suffix == ".png" for p in res.plots)


def test_cancel_keeps_finished_models(patches: Path, tmp_path: Path) -> None:
    ckpts = [make_checkpoint(tmp_path, "a", 0), make_checkpoint(tmp_path, "b", 1)]
    seen: list[ProgressRecord] = []
    with pytest.raises(JobCancelled):
        evaluate(
            ckpts, patches, ["vanilla"], tmp_path / "eval", max_images=3,
            settings=EvalSettings(sanity_images=1, sanity_checkpoints=1),
            on_progress=seen.append, should_stop=lambda: len(seen) >= 2,
        )  # fmt: skip
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert [m["name"] for m in metrics["models"]] == ["a/best"]
    assert metrics["models"][0]["images"]["subset"].startswith("all images")


def test_cli_evaluate_json_progress(
    patches: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = make_checkpoint(tmp_path, "erm", 0)
    out = tmp_path / "cli"
    argv = ["evaluate", "--data", str(patches), "--models", str(ckpt.with_suffix(".json"))]
    argv += ["--methods", "vanilla", "--max-images", "3", "--sanity-images", "1", "--out", str(out)]
    assert main([*argv, "--progress", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "result" and lines[-1]["report"] == str(out / "report.md")
    assert {line["type"] for line in lines[:-1]} == {"progress"}
    assert main([*argv, "--methods", "nope"]) == 1
    assert "unknown saliency method" in capsys.readouterr().err


def test_balanced_sample_and_split_lookup(tmp_path: Path) -> None:
    from pathscaat.data.split import Split
    from pathscaat.evaluation.data import balanced_sample, split_test_paths

    paths = [f"a/{i}.png" for i in range(8)] + ["b/0.png", "c/0.png", "c/1.png"]
    labels = [0] * 8 + [1, 2, 2]
    picked = balanced_sample(paths, labels, 4, seed=0)
    assert len(picked) == 4 and {"b/0.png"} <= set(picked)
    assert {p[0] for p in picked} == {"a", "b", "c"}
    assert picked == balanced_sample(paths, labels, 4, seed=0)
    split = Split(train=paths[:5], val=[], test=paths[5:], group_by="file", seed=0, n_groups=11)
    saved = split.save(tmp_path / "split.json")
    assert split_test_paths({"path": str(saved)}, set(paths)) == paths[5:]
    assert split_test_paths({"test": ["elsewhere.png"]}, set(paths)) is None  # other folder
    assert split_test_paths({}, set(paths)) is None


@pytest.mark.slow
def test_report_lists_classes_without_test_images(patches: Path, tmp_path: Path) -> None:
    """Issue 11: a test split without some classes must not read "classes balanced"."""
    images = sorted(
        p.relative_to(patches / "images").as_posix() for p in patches.glob("images/*/*.png")
    )
    test = [p for p in images if not p.startswith("inflamed/")]
    split = {"train": [], "val": [], "test": test}
    res = evaluate(
        [make_checkpoint(tmp_path, "erm", 0, split)], patches, ["vanilla"], tmp_path / "eval",
        settings=EvalSettings(sanity_images=1, sanity_checkpoints=1), max_images=4,
        grid_images=2,
    )  # fmt: skip
    report = res.report.read_text()
    assert "No image of 1 of its 3 classes: inflamed" in report
    assert "classes balanced" not in report


def test_no_sanity_cascade_when_asked_for_none(patches: Path, tmp_path: Path) -> None:
    """sanity_images=0 (a whole-test-split faithfulness pass) skips the cascade instead of
    failing on an empty batch."""
    res = evaluate(
        [make_checkpoint(tmp_path, "erm", 0)], patches, ["vanilla"], tmp_path / "eval",
        settings=EvalSettings(sanity_images=0, sanity_checkpoints=0, stability_samples=0),
        max_images=4, grid_images=2,
    )  # fmt: skip
    summary = res.metrics["models"][0]["methods"]["vanilla"]["summary"]
    assert "sanity_rank_corr" not in summary and math.isfinite(summary["gini"]["mean"])
