"""The run config file: round trip, clear errors, the same run through ``train --config``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pathscaat.cli.main import build_parser
from pathscaat.cli.train_cmd import build_config
from pathscaat.data.data_source import DataSource
from pathscaat.progress import PathscaatError, ProgressRecord
from pathscaat.training import ScaatConfig, TrainConfig, train
from pathscaat.training.run_config import load_run_config, save_run_config, train_command
from tests.core.tiny_kather import write_tiny_kather

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(kather_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_kather(kather_mini, tmp_path_factory.mktemp("tiny"), per_class=6, px=32)


def _config(data: Path, out: Path, **kw: object) -> TrainConfig:
    base: dict[str, object] = dict(
        data=data, backbone="test_resnet", out=out, epochs=1, batch_size=6, lr=3e-3,
        img_size=32, device="cpu", val_fraction=0.25, test_fraction=0.0, seed=3,
        scaat=ScaatConfig.for_objective("scaat", eps=8 / 255, mask="adaptive", tau=0.3),
        strip_count=4,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    config = _config(
        tmp_path / "data", tmp_path / "out", pretrained_file=tmp_path / "w.safetensors",
        sources=[DataSource("folder", tmp_path / "a", mpp=0.5),
                 DataSource("project", tmp_path / "p", slides=["s1"], mpp=1.0, tile_px=224)],
        strip_every=2, timm_kwargs={"drop_rate": 0.1}, patience=3, amp=False,
    )  # fmt: skip
    save_run_config(config, tmp_path / "run.json")
    assert json.loads((tmp_path / "run.json").read_text())["schema_version"] == 1
    assert load_run_config(tmp_path / "run.json") == config


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"schema_version": 1, "data": "d", "epochz": 3}', "unknown keys epochz"),
        ('{"schema_version": 1, "data": "d", "scaat": {"lamda": 1}}', "unknown scaat keys lamda"),
        ('{"schema_version": 1, "data": "d", "sources": [{"kind": "zip", "path": "x"}]}', "zip"),
        ('{"schema_version": 1, "data": "d", "epochs": 0}', "at least 1"),
        ('{"schema_version": 2, "data": "d"}', "schema_version 2"),
        ('{"schema_version": 1, "data": "d",', "not valid JSON"),
        ("[1, 2]", "not a run config"),
    ],
)
def test_bad_file_is_one_clear_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PathscaatError, match=words) as info:
        load_run_config(path)
    assert str(path) in str(info.value)


def test_command_flags_rebuild_the_same_config(tmp_path: Path) -> None:
    config = _config(tmp_path / "data", tmp_path / "out", workers=2, amp=False, patience=2)
    argv = train_command(config)
    assert argv[:2] == ["pathscaat", "train"]
    args = build_parser().parse_args(argv[1:])
    assert build_config(args) == config
    assert train_command(config, tmp_path / "r.json") == [
        "pathscaat", "train", "--config", str(tmp_path / "r.json"),
    ]  # fmt: skip
    two = _config(
        tmp_path / "d",
        tmp_path / "o",
        sources=[DataSource("folder", tmp_path / "a"), DataSource("folder", tmp_path / "b")],
    )
    with pytest.raises(PathscaatError, match="--config"):
        train_command(two)


def test_flags_beside_config_override_it(tmp_path: Path) -> None:
    config = _config(tmp_path / "data", tmp_path / "out")
    save_run_config(config, tmp_path / "run.json")
    args = build_parser().parse_args(
        ["train", "--config", str(tmp_path / "run.json"), "--epochs", "4", "--lam", "0.5"]
    )
    got = build_config(args)
    assert got.epochs == 4 and got.scaat.lam == 0.5 and got.scaat.tau == 0.3
    assert got.backbone == "test_resnet" and got.seed == 3


def test_unwritable_output_is_clear(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PathscaatError, match="cannot write the run config"):
        save_run_config(_config(tmp_path, tmp_path), blocker / "run.json")


@pytest.mark.slow
def test_config_file_trains_the_same_run_and_writes_strips(tiny: Path, tmp_path: Path) -> None:
    records: list[ProgressRecord] = []
    first = train(_config(tiny, tmp_path / "a"), on_progress=records.append)
    config_file = tmp_path / "run.json"
    save_run_config(_config(tiny, tmp_path / "b"), config_file)
    argv = train_command(load_run_config(config_file), config_file)
    proc = subprocess.run(
        [sys.executable, "-m", "pathscaat.cli.main", *argv[1:], "--progress", "json"],
        capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    epoch = [x for x in lines if x["type"] == "progress" and x["stage"] == "epoch"]
    batches = [x for x in lines if x["type"] == "progress" and x["stage"] == "train"]
    assert len(epoch) == 1 and batches and {"ce", "reg"} <= batches[0]["extra"].keys()
    extra = epoch[0]["extra"]
    assert extra["train_loss"] == pytest.approx(first.history[0]["train_loss"], rel=1e-4)
    assert extra["train_ce"] + extra["train_reg"] == pytest.approx(extra["train_loss"], rel=1e-4)
    assert extra["val_acc"] == first.history[0]["accuracy"] and extra["eta_s"] == 0
    with Image.open(extra["strip"]) as im:  # 4 patches over their saliency, 96 px cells
        assert im.size == (4 * 96 + 3 * 2, 2 * 96 + 2 + 4)
    assert Path(extra["strip"]) == tmp_path / "b" / "strips" / "epoch_001.png"
    mine = next(r for r in records if r.stage == "epoch").extra
    assert Path(mine["strip"]).is_file() and mine["val_bal_acc"] is not None
    assert mine["strip_classes"] == ["ADI", "LYM", "TUM", "ADI"] and len(mine["strip_correct"]) == 4
