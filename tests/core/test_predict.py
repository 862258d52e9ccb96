"""Slide inference end to end on the real CMU slide with a tiny random checkpoint.

Checks what a user relies on: every raster is written, opens as a slide and lines up with
the slide (size and a tile's value at its place); tiles.csv has one row per grid tile and
rows of probabilities summing to 1; a cancelled run resumes with only the missing tiles and
the same results; a bad checkpoint is one clear error.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pathscaat.inference.overlays import OverlaySet
from pathscaat.inference.predict import predict_slide
from pathscaat.progress import JobCancelled, PathscaatError, ProgressRecord
from pathscaat.slides import open_slide

CLASSES = ["benign", "atypical", "inflamed"]
MODEL_MPP = 4.0
INPUT_PX = 32


def make_checkpoint(folder: Path, mpp: float | None = MODEL_MPP) -> Path:
    from pathscaat.models import CheckpointMeta, create_model, save_checkpoint

    torch.manual_seed(0)
    model = create_model("resnet10t", len(CLASSES))
    meta = CheckpointMeta(
        backbone="resnet10t", class_names=CLASSES, input_px=INPUT_PX,
        mean=list(model.mean), std=list(model.std), mpp=mpp,
    )  # fmt: skip
    return save_checkpoint(folder / "tiny", model, meta)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt"))


class Recorder:
    """on_progress that keeps the records of stage ``infer``; stops after ``stop_after``."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.records: list[ProgressRecord] = []
        self.stop_after = stop_after

    def __call__(self, rec: ProgressRecord) -> None:
        if rec.stage == "infer":
            self.records.append(rec)

    def should_stop(self) -> bool:
        return self.stop_after is not None and len(self.records) > self.stop_after


def read_rows(out: Path) -> list[dict[str, str]]:
    with (out / "tiles.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def full_run(cmu_svs: Path, ckpt: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("full")
    rec = Recorder()
    result = predict_slide(cmu_svs, ckpt, out, device="cpu", batch_size=16, workers=2,
                           on_progress=rec)  # fmt: skip
    return out, result, rec


def test_overlays_written_and_aligned(cmu_svs: Path, full_run) -> None:
    out, result, rec = full_run
    loaded = OverlaySet.load(out)
    assert loaded == result
    assert [o.name for o in loaded.overlays] == [
        "saliency", "saliency_tile", "saliency_abs", *[f"prob_{c}" for c in CLASSES], "tissue"
    ]
    with open_slide(cmu_svs) as slide:
        assert loaded.slide_dims == slide.dimensions
    assert not (out / ".partial").exists()
    for info in loaded.overlays:
        with open_slide(loaded.path_of(info)) as raster:
            want = [math.ceil(d / info.l0_per_px) for d in loaded.slide_dims]
            assert all(abs(a - b) <= 1 for a, b in zip(raster.dimensions, want, strict=True))
    rows = read_rows(out)
    total = rec.records[-1].total
    assert len(rows) == total > 10
    assert rec.records[-1].done == total and rec.records[-1].extra["computed"] == total


def test_tiles_csv_probabilities(full_run) -> None:
    out, _, _ = full_run
    rows = read_rows(out)
    probs = np.array([[float(r[f"prob_{c}"]) for c in CLASSES] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert [r["pred_class"] for r in rows] == [CLASSES[i] for i in probs.argmax(axis=1)]
    assert all(float(r["max_saliency"]) > 0 for r in rows)
    assert len({(r["l0_x"], r["l0_y"]) for r in rows}) == len(rows)


def test_rasters_hold_each_tiles_values_at_its_place(full_run) -> None:
    out, result, _ = full_run
    rows = read_rows(out)
    for c in CLASSES:
        info = result.get(f"prob_{c}")
        with open_slide(result.path_of(info)) as raster:
            for r in rows[:: max(1, len(rows) // 8)]:
                side = float(r["l0_w"])
                centre = ((float(r["l0_x"]) + side / 2), (float(r["l0_y"]) + side / 2))
                ras_xy = (int(centre[0] / info.l0_per_px), int(centre[1] / info.l0_per_px))
                code = raster.read_region(ras_xy, 0, (1, 1))[0, 0, 0]
                assert code == pytest.approx(float(r[f"prob_{c}"]) * 255, abs=1.0)
    sal = result.get("saliency")
    with open_slide(result.path_of(sal)) as raster:
        full = raster.read_region((0, 0), 0, raster.dimensions)[..., 0]
        hottest = max(rows, key=lambda r: float(r["max_saliency"]))
        x0 = int(int(hottest["l0_x"]) / sal.l0_per_px)
        y0 = int(int(hottest["l0_y"]) / sal.l0_per_px)
        n = int(float(hottest["l0_w"]) / sal.l0_per_px)
        assert full[y0 : y0 + n, x0 : x0 + n].max() >= 200  # the hottest tile is bright
        covered = np.zeros_like(full, dtype=bool)
        for r in rows:  # each tile's footprint, give or take one raster px
            x, y = int(int(r["l0_x"]) / sal.l0_per_px), int(int(r["l0_y"]) / sal.l0_per_px)
            covered[max(y - 1, 0) : y + n + 2, max(x - 1, 0) : x + n + 2] = True
        assert full[~covered].max(initial=0) == 0  # nothing painted off the tiles
        assert (full[covered] > 0).mean() > 0.5


def test_cancel_then_resume_computes_only_the_rest(
    cmu_svs: Path, ckpt: Path, tmp_path: Path, full_run
) -> None:
    first = Recorder(stop_after=2)  # the opening record, then two batches
    with pytest.raises(JobCancelled, match="run the same inference again"):
        predict_slide(cmu_svs, ckpt, tmp_path, device="cpu", batch_size=8, workers=2,
                      on_progress=first, should_stop=first.should_stop)  # fmt: skip
    done_first = first.records[-1].done  # every tile reported done is on disk
    assert 0 < done_first < first.records[-1].total and done_first % 8 == 0
    assert np.load(tmp_path / ".partial" / "done.npy").sum() == done_first
    assert not (tmp_path / "overlays.json").exists()

    second = Recorder()
    predict_slide(cmu_svs, ckpt, tmp_path, device="cpu", batch_size=8, workers=2,
                  on_progress=second)  # fmt: skip
    total = second.records[-1].total
    assert second.records[0].extra["resumed"] == done_first
    assert second.records[-1].extra["computed"] == total - done_first
    assert second.records[-1].done - second.records[0].done == total - done_first
    full_rows, rows = read_rows(full_run[0]), read_rows(tmp_path)
    assert len(rows) == len(full_rows)
    for a, b in zip(rows, full_rows, strict=True):
        assert (a["l0_x"], a["l0_y"]) == (b["l0_x"], b["l0_y"])
        for c in CLASSES:
            assert float(a[f"prob_{c}"]) == pytest.approx(float(b[f"prob_{c}"]), abs=1e-4)


def test_bad_checkpoint_is_one_clear_error(cmu_svs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PathscaatError, match="checkpoint"):
        predict_slide(cmu_svs, bad, tmp_path / "out", device="cpu")
    with pytest.raises(PathscaatError, match="missing"):
        predict_slide(cmu_svs, tmp_path / "nothing", tmp_path / "out", device="cpu")
    ckpt = make_checkpoint(tmp_path)
    ckpt.with_suffix(".safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(PathscaatError, match="checkpoint"):
        predict_slide(cmu_svs, ckpt, tmp_path / "out", device="cpu")


@pytest.mark.parametrize("saliency", [None, "gradcam"])
def test_slide_and_model_without_mpp_read_level_0_and_say_so(
    tmp_path: Path, saliency: str | None
) -> None:
    from PIL import Image

    rng = np.random.default_rng(1)
    pink = np.array([200, 120, 170], np.uint8) + rng.integers(0, 40, (256, 320, 3), np.uint8)
    Image.fromarray(pink).save(tmp_path / "plain.png")
    warnings: list[str] = []  # the app shows a record's extra["warning"]
    result = predict_slide(
        tmp_path / "plain.png",
        make_checkpoint(tmp_path, mpp=None),  # with a µm/px it is refused: test_run_scale
        tmp_path / "out",
        device="cpu",
        saliency=saliency,
        on_progress=lambda r: warnings.append(str(r.extra.get("warning", ""))),
    )
    assert any("records a µm/px" in m and "level 0" in m for m in warnings)
    kinds = ["saliency"] * 3 if saliency else []
    assert [o.kind for o in result.overlays] == kinds + ["probability"] * 3 + ["tissue"]
    rows = read_rows(tmp_path / "out")
    assert len(rows) > 0 and all(r["l0_w"] == str(INPUT_PX) for r in rows)
    assert all((r["max_saliency"] != "") == bool(saliency) for r in rows)


@pytest.mark.parametrize("method", ["vanilla", "input_x_gradient"])
def test_one_backward_per_batch_equals_per_tile_saliency(ckpt: Path, method: str) -> None:
    from pathscaat.inference.predict import load_model
    from pathscaat.inference.scoring import TileScorer
    from pathscaat.saliency import get_method

    model, _, _ = load_model(ckpt)
    tiles = np.random.default_rng(0).integers(0, 256, (6, INPUT_PX, INPUT_PX, 3), np.uint8)
    scorer = TileScorer(model, saliency=method, device=torch.device("cpu"), sal_px=INPUT_PX)
    probs, sal = scorer(tiles)
    x = torch.from_numpy(tiles).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        logits = model(x)
    np.testing.assert_allclose(probs, logits.softmax(1).numpy(), atol=1e-5)
    ref = get_method(method).attribute(model, x, logits.argmax(1)).numpy()
    assert sal is not None
    np.testing.assert_allclose(sal, ref, rtol=1e-4, atol=1e-7)
    pooled = TileScorer(model, saliency=method, device=torch.device("cpu"), sal_px=8)(tiles)[1]
    assert pooled is not None and pooled.shape == (6, 8, 8)
    np.testing.assert_allclose(pooled.max(axis=(1, 2)), ref.max(axis=(1, 2)), rtol=1e-5)


def test_partial_store_resumes_only_the_same_job(tmp_path: Path) -> None:
    from pathscaat.inference.resume import PartialStore

    store = PartialStore.open(tmp_path, "job-a", n_tiles=5, n_classes=2, sal_px=4)
    sal = np.arange(2 * 16, dtype=np.float32).reshape(2, 4, 4) * 1e-6
    store.record(np.array([1, 3]), np.array([[0.2, 0.8], [0.6, 0.4]], np.float32), sal)
    assert store.n_done == 0  # recorded, not yet committed
    store.commit()
    again = PartialStore.open(tmp_path, "job-a", n_tiles=5, n_classes=2, sal_px=4)
    assert again.pending().tolist() == [0, 2, 4]
    np.testing.assert_allclose(again.probs[3], [0.6, 0.4])
    np.testing.assert_allclose(again.saliency_of(3), sal[1], rtol=1e-3)
    other = PartialStore.open(tmp_path, "job-b", n_tiles=5, n_classes=2, sal_px=4)
    assert other.n_done == 0 and other.pending().tolist() == [0, 1, 2, 3, 4]


def test_given_overlapping_grid_paints_each_tiles_centre(tmp_path: Path, ckpt: Path) -> None:
    from PIL import Image

    from pathscaat.tiling.grid import make_grid

    rng = np.random.default_rng(2)
    pink = np.array([200, 120, 170], np.uint8) + rng.integers(0, 40, (160, 200, 3), np.uint8)
    Image.fromarray(pink).save(tmp_path / "plain.png")
    with open_slide(tmp_path / "plain.png") as slide:
        grid = make_grid(slide, tile_px=INPUT_PX, downsample=1.0, overlap_px=8, min_tissue=0.0)
    (tmp_path / "out" / ".stitch-killed").mkdir(parents=True)  # scratch of a killed run
    (tmp_path / "out" / "saliency.tif.tmp").write_bytes(b"half")
    result = predict_slide(tmp_path / "plain.png", ckpt, tmp_path / "out", grid=grid,
                           device="cpu", batch_size=64)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "overlays.json", "prob_atypical.tif", "prob_benign.tif", "prob_inflamed.tif",
        "saliency.tif", "saliency_abs.tif", "saliency_tile.tif", "tiles.csv", "tissue.tif",
    ]  # fmt: skip
    assert len(read_rows(tmp_path / "out")) == len(grid.l0_xy)
    sal = result.get("saliency")
    with open_slide(result.path_of(sal)) as raster:
        full = raster.read_region((0, 0), 0, raster.dimensions)[..., 0]
    # saliency is blended over each tile's whole footprint: the tiles cover their area
    # without gaps, and nothing lies outside it
    assert sal.l0_per_px == pytest.approx(4.0)
    l0_end = grid.l0_xy.max(axis=0) + INPUT_PX
    inner = full[: l0_end[1] // 4, : l0_end[0] // 4]
    assert (inner > 0).all()
    assert full[l0_end[1] // 4 :].max(initial=0) == 0
    assert full[:, l0_end[0] // 4 :].max(initial=0) == 0


def test_blank_slide_is_one_clear_error(tmp_path: Path, ckpt: Path) -> None:
    from PIL import Image

    Image.fromarray(np.full((200, 240, 3), 245, np.uint8)).save(tmp_path / "glass.png")
    with pytest.raises(PathscaatError, match="no tissue tiles"):
        predict_slide(tmp_path / "glass.png", ckpt, tmp_path / "out", device="cpu", slide_mpp=1.0)
