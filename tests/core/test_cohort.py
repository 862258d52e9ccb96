"""Cohort inference in one process: slide lists, folders, shards, the table, bad slides, resume.

Four small generated synthetic slides (plus a truncated copy of one) and a tiny random
checkpoint; each slide's output is compared with what ``predict_slide`` writes for it.
"""

from __future__ import annotations

import csv
import dataclasses
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pathscaat.inference.cohort import CohortSettings
from pathscaat.inference.cohort_run import infer_cohort
from pathscaat.inference.cohort_slides import assign_folders, list_slides, shard
from pathscaat.inference.cohort_table import TABLE_NAME
from pathscaat.progress import JobCancelled, PathscaatError, ProgressRecord

CLASSES = ["benign", "atypical", "inflamed"]
SETTINGS = CohortSettings(saliency="vanilla", device="cpu", batch_size=8, read_threads=1)


def make_cohort(root: Path) -> tuple[Path, Path]:
    """(slide folder with s0..s3 and a truncated 'broken.tif', checkpoint); made once a
    session (also for the two-rank tests)."""
    from pathscaat.data.synthetic_slide import write_synthetic_slide
    from pathscaat.models import CheckpointMeta, create_model, save_checkpoint

    slides, ckpt = root / "slides", root / "model" / "tiny"
    if (root / "ready").exists():
        return slides, ckpt
    for i in range(2):  # rendering's fixed cost is ~2 s a slide: s2, s3 are copies
        write_synthetic_slide(slides / f"s{i}.tif", width=1024, height=768, seed=i, tile=256)
        shutil.copy(slides / f"s{i}.tif", slides / f"s{i + 2}.tif")
    data = (slides / "s1.tif").read_bytes()
    (slides / "broken.tif").write_bytes(data[: len(data) // 2])
    for extra in slides.glob("*.regions.json"):
        extra.unlink()
    torch.manual_seed(0)
    model = create_model("resnet10t", len(CLASSES))
    meta = CheckpointMeta(
        backbone="resnet10t", class_names=CLASSES, input_px=32,
        mean=list(model.mean), std=list(model.std), mpp=2.0,
    )  # fmt: skip
    save_checkpoint(ckpt, model, meta)
    (root / "ready").touch()
    return slides, ckpt


@pytest.fixture(scope="session")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cohort(tmp_path_factory.getbasetemp() / "cohort-data")


def read_table(out: Path) -> dict[str, dict[str, str]]:
    with (out / TABLE_NAME).open(newline="") as fh:
        return {row["folder"]: row for row in csv.DictReader(fh)}


def tile_probs(folder: Path) -> np.ndarray:
    with (folder / "tiles.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return np.array([[float(r[f"prob_{c}"]) for c in CLASSES] for r in rows])


class Events:
    """on_progress keeping every record; ``stop_in`` stops once that slide is scoring."""

    def __init__(self, stop_in: str | None = None) -> None:
        self.records: list[ProgressRecord] = []
        self.stop_in = stop_in

    def __call__(self, rec: ProgressRecord) -> None:
        self.records.append(rec)

    def outcomes(self) -> dict[str, str]:
        return {r.extra["folder"]: r.extra["outcome"] for r in self.records if r.stage == "cohort"}

    def should_stop(self) -> bool:
        return any(
            r.stage == "infer" and r.extra.get("slide") == self.stop_in and r.done > 0
            for r in self.records
        )


@pytest.fixture(scope="module")
def single_run(cohort: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    slides, ckpt = cohort
    out = tmp_path_factory.mktemp("cohort-out")
    events = Events()
    result = infer_cohort(slides, ckpt, out, SETTINGS, on_progress=events)
    return out, result, events


def test_every_slide_has_infers_outputs_and_a_row(cohort, single_run, tmp_path: Path) -> None:
    from pathscaat.inference.overlays import OverlaySet
    from pathscaat.inference.predict import predict_slide

    slides, ckpt = cohort
    out, result, events = single_run
    assert result.merged and result.n_slides == 5
    assert (result.shard.computed, result.shard.failed) == (4, 1)
    table = read_table(out)
    assert sorted(table) == ["broken", "s0", "s1", "s2", "s3"]
    assert events.outcomes() == {"broken": "failed", **{f"s{i}": "computed" for i in range(4)}}
    alone = predict_slide(slides / "s2.tif", ckpt, tmp_path / "alone", device="cpu",
                          batch_size=8, workers=1)  # fmt: skip
    in_cohort = OverlaySet.load(out / "s2")
    assert [o.file for o in in_cohort.overlays] == [o.file for o in alone.overlays]
    np.testing.assert_allclose(tile_probs(out / "s2"), tile_probs(tmp_path / "alone"), atol=1e-5)
    for i in range(4):
        row, probs = table[f"s{i}"], tile_probs(out / f"s{i}")
        assert row["status"] == "done" and int(row["tiles"]) == len(probs) > 4
        fracs = [float(row[f"frac_{c}"]) for c in CLASSES]
        want = np.bincount(probs.argmax(1), minlength=3) / len(probs)
        np.testing.assert_allclose(fracs, want, atol=1e-6)
        means = [float(row[f"mean_prob_{c}"]) for c in CLASSES]
        np.testing.assert_allclose(means, probs.mean(0), atol=1e-5)
        assert 0 < float(row["saliency_mean"]) <= float(row["saliency_p95"]) * 1.5


def test_truncated_slide_is_a_failed_row_naming_the_file(single_run) -> None:
    out, _, _ = single_run
    row = read_table(out)["broken"]
    assert row["status"] == "failed" and row["tiles"] == ""
    assert "broken.tif" in row["error"] and "truncated" in row["error"]
    assert not (out / "broken" / "overlays.json").exists()


def test_rerun_skips_done_slides_and_continues_a_half_done_one(cohort, tmp_path: Path) -> None:
    slides, ckpt = cohort
    some = tmp_path / "some"
    some.mkdir()
    for name in ("s0.tif", "s3.tif"):
        (some / name).symlink_to(slides / name)
    out = tmp_path / "out"
    first = Events(stop_in="s3")
    small_batches = dataclasses.replace(SETTINGS, batch_size=2)  # stop lands mid-slide
    with pytest.raises(JobCancelled, match="run the same command again"):
        infer_cohort(some, ckpt, out, small_batches, on_progress=first,
                     should_stop=first.should_stop)  # fmt: skip
    table = read_table(out)
    assert table["s0"]["status"] == "done" and table["s3"]["status"] == "pending"
    assert (out / "s3" / ".partial").is_dir()
    stamp = (out / "s0" / "overlays.json").stat().st_mtime_ns
    again = Events()
    result = infer_cohort(some, ckpt, out, SETTINGS, on_progress=again)
    assert again.outcomes() == {"s0": "resumed", "s3": "computed"}
    assert (result.shard.resumed, result.shard.computed) == (1, 1)
    assert (out / "s0" / "overlays.json").stat().st_mtime_ns == stamp
    s3_infer = [r for r in again.records if r.stage == "infer" and r.extra["slide"] == "s3"]
    assert s3_infer[0].extra["resumed"] > 0
    assert read_table(out)["s3"]["status"] == "done"


def test_slide_list_file_and_folder(cohort, tmp_path: Path) -> None:
    slides, _ = cohort
    listing = tmp_path / "list.txt"
    listing.write_text(f"# my cohort\n{slides / 's0.tif'}\n\n../{tmp_path.name}/missing.svs\n")
    assert list_slides(listing) == sorted([(slides / "s0.tif").resolve(), tmp_path / "missing.svs"])
    (slides / "notes.txt").write_text("not a slide")
    found = list_slides(slides)
    assert [p.name for p in found] == ["broken.tif", "s0.tif", "s1.tif", "s2.tif", "s3.tif"]
    nested = tmp_path / "nested"
    (nested / "a").mkdir(parents=True)
    shutil.copy(slides / "s0.tif", nested / "a" / "x.tif")
    (nested / "out").mkdir()
    shutil.copy(slides / "s0.tif", nested / "out" / "saliency.tif")
    assert list_slides(nested, recursive=True, exclude=nested / "out") == [nested / "a" / "x.tif"]
    (tmp_path / "empty").mkdir()
    for bad, says in ((tmp_path / "nowhere", "no such folder"), (tmp_path / "empty", "no slides")):
        with pytest.raises(PathscaatError, match=says):
            list_slides(bad)
    with pytest.raises(PathscaatError, match="project layer"):
        list_slides(f"project:{tmp_path}")


def test_project_slides_are_listed_even_while_the_app_holds_it(cohort, tmp_path: Path) -> None:
    from pathscaat.project import Project, project_slide_paths

    slides, _ = cohort
    with pytest.raises(PathscaatError, match="not a PathSCAAT project"):
        project_slide_paths(tmp_path)
    with Project.create(tmp_path / "proj") as project:  # held for writing, as by the app
        with pytest.raises(PathscaatError, match="no slides"):
            project_slide_paths(tmp_path / "proj")
        for name in ("s0.tif", "s1.tif"):
            project.add_slide(slides / name)
        listed = list_slides(project_slide_paths(tmp_path / "proj"))
    assert listed == sorted((slides / n).resolve() for n in ("s0.tif", "s1.tif"))


def test_colliding_stems_get_distinct_folders_and_shards_partition(tmp_path: Path) -> None:
    paths = [tmp_path / "a" / "x.svs", tmp_path / "b" / "x.ndpi", tmp_path / "b" / "X.tif",
             tmp_path / "y.svs"]  # fmt: skip
    for i, p in enumerate(paths):
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"0" * (100 * (i + 1)))
    slides = assign_folders(sorted(paths))
    names = [s.folder for s in slides]
    assert len(set(names)) == 4 and "y" in names
    assert all(n.lower().startswith("x-") for n in names if n != "y")
    assert assign_folders(sorted(paths)) == slides  # the same on every rank
    for world in (1, 2, 3, 5):
        parts = [shard(slides, r, world) for r in range(world)]
        flat = sorted(str(s.path) for part in parts for s in part)
        assert flat == sorted(str(s.path) for s in slides)
        assert parts == [shard(slides, r, world) for r in range(world)]
    two = [shard(slides, r, 2) for r in range(2)]
    assert {len(p) for p in two} == {2}  # sizes 400+100 vs 300+200


def test_cli_bad_slides_argument_is_one_line(
    cohort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathscaat.cli.main import main

    _, ckpt = cohort
    code = main(["infer-cohort", "--slides", str(tmp_path / "none"), "--model", str(ckpt),
                 "--out", str(tmp_path / "out"), "--device", "cpu"])  # fmt: skip
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "no such folder or slide list" in lines[0]


if __name__ == "__main__":
    pytest.main([__file__, *sys.argv[1:]])
