"""bench_frontier --smoke: two tiny cells, the frontier artefacts, and a rerun that resumes."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_frontier", ROOT / "benchmarks" / "bench_frontier.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_smoke_sweep_writes_the_frontier_and_resumes(tmp_path: Path) -> None:
    bench = load_bench()
    assert bench.main(["--smoke", "--out", str(tmp_path), "--device", "cpu"]) == 0
    out = tmp_path / "smoke"
    cells = {p.parent.parent.parent.name: p for p in out.glob("cells/fragile/*/*/*/cell.json")}
    assert set(cells) == {"scaat-soft", "trades-meanbudget"}
    soft = json.loads(cells["scaat-soft"].read_text())
    matched = json.loads(cells["trades-meanbudget"].read_text())
    # TRADES at the soft arm's mean per-pixel budget: eps' = eps * mean (1 - s)^gamma
    assert 0 < soft["train_budget"] < 1
    assert matched["eps_effective_255"] == pytest.approx(8 * soft["train_budget"], rel=1e-6)
    assert matched["knobs"]["mask"] == "none"
    for rec in (soft, matched):
        for key in ("accuracy", "gini", "relevance_mass", "alignment", "checkerboard"):
            assert rec[key] is not None and 0 <= rec[key] <= 1, key
    with open(out / "frontier.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["arm"] for r in rows} == {"scaat-soft", "trades-meanbudget"}
    assert (out / "frontier_fragile.png").stat().st_size > 1000
    assert "| fragile | scaat-soft | 8 |" in (out / "frontier.md").read_text()
    stamps = {k: p.stat().st_mtime_ns for k, p in cells.items()}
    assert bench.main(["--smoke", "--out", str(tmp_path), "--device", "cpu"]) == 0
    assert {k: p.stat().st_mtime_ns for k, p in cells.items()} == stamps  # nothing re-run


def test_finetune_cells_start_from_the_same_seeds_erm_model(tmp_path: Path) -> None:
    from argparse import Namespace
    from dataclasses import replace

    bench = load_bench()
    p = bench.PROFILES["finetune"]
    assert p.init == "erm" and "erm" in p.arms
    args = Namespace(out=tmp_path, pretrained_file=None)
    cell = bench.Cell("fragile", "scaat-soft", 16.0, 2)
    with pytest.raises(LookupError, match="run the default profile's erm first"):
        bench.init_weights(cell, p, args)
    weights = tmp_path / "default/cells/fragile/erm/eps0/s2/train/last.safetensors"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"")
    assert bench.init_weights(cell, p, args) == weights
    assert bench.init_weights(cell, replace(p, init="random"), args) is None
    # the start is part of the recipe, so fine-tuned cells never reuse from-scratch ones
    cfg = bench.arm_config("scaat-soft", 16 / 255, p)
    data = tmp_path / "data"
    assert bench.cell_key(cfg, p, data) != bench.cell_key(cfg, replace(p, init="random"), data)
