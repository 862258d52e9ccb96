"""How a slide id is read: TCGA barcodes, Case-N, name prefixes, patterns, manifest columns;
the split, the scan, the CLI and the run config all use the one rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pathscaat.cli.main import build_parser
from pathscaat.cli.train_cmd import build_config
from pathscaat.data.data_source import DataSource
from pathscaat.data.patch_folder import scan_items
from pathscaat.data.slide_id import SlideIdRule, preview_groups
from pathscaat.data.sources import regroup, scan_sources
from pathscaat.data.split import make_split
from pathscaat.data.split_preview import preview
from pathscaat.progress import PathscaatError
from pathscaat.training import TrainConfig
from pathscaat.training.run_config import train_command


@pytest.mark.parametrize(
    ("rule", "name", "row", "slide"),
    [
        ("tcga", "TCGA-a1-A0SB-01Z-00-DX1_x1024_y512.png", None, "TCGA-A1-A0SB"),
        ("tcga", "tile_7.png", None, None),
        ("case", "case_007_tile3.png", None, "Case-7"),
        ("case", "Case-7 (2).jpg", None, "Case-7"),
        ("case", "showcase12.png", None, None),  # "case" inside a word is no case number
        ("prefix", "H19-4471_0003.png", None, "H19-4471"),
        ("prefix:-", "H19-4471_0003.png", None, "H19"),
        ("prefix", "lonely.png", None, None),
        (r"regex:^(\d{6})", "123456B_tile.png", None, "123456"),
        (r"regex:P\d+", "x_P0042_y.png", None, "P0042"),
        ("column:patient", "t.png", {"patient": "MRN 77", "slide": "s1"}, "MRN 77"),
        ("column:patient", "t.png", {"slide": "s1"}, None),
        ("auto", "t.png", {"slide": "s1"}, "s1"),
        ("auto", "CRC-Prim-HE-07_APPLICATION.tif_Row_1.png", None, "CRC-Prim-HE-07"),
    ],
)
def test_each_rule_reads_its_slide_id(rule: str, name: str, row: dict[str, str] | None,
                                      slide: str | None) -> None:  # fmt: skip
    parsed = SlideIdRule.parse(rule)
    assert parsed.slide_of(name, row) == slide
    assert SlideIdRule.parse(parsed.text()) == parsed


@pytest.mark.parametrize(("text", "words"), [("barcode", "unknown slide id rule"),
                                             ("regex:(", "not valid"), ("column:", "column")])
def test_a_bad_rule_is_one_clear_error(text: str, words: str) -> None:
    with pytest.raises(PathscaatError, match=words):
        SlideIdRule.parse(text)


def _tcga_folder(root: Path) -> Path:
    """Two classes, tiles of 8 TCGA patients (names like a GDC download) and 3 with none."""
    rng = np.random.default_rng(0)
    for k, cls in enumerate(("TUM", "STR")):
        (root / cls).mkdir(parents=True)
        for p in range(8):
            for t in range(3):
                name = f"TCGA-{'AB'[k]}{p}-{1000 + p}-01Z-00-DX1_{t}.png"
                Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(
                    root / cls / name)  # fmt: skip
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(root / cls / f"extra_{k}.png")
    return root


def test_tcga_rule_keeps_a_patient_in_one_split(tmp_path: Path) -> None:
    root = _tcga_folder(tmp_path / "tcga")
    _, items = scan_items(root)
    assert make_split(root, items, 0.25, 0.25).group_by == "file"  # auto finds nothing
    split = make_split(root, items, 0.25, 0.25, slide_id=SlideIdRule.parse("tcga"))
    assert split.group_by == "tcga" and split.n_groups == 16 + 2  # + the two tiles without one
    rule = SlideIdRule.parse("tcga")
    seen = [{rule.slide_of(p) for p in part} - {None}
            for part in (split.train, split.val, split.test)]  # fmt: skip
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])


def test_scan_warning_and_regroup_follow_the_rule(tmp_path: Path) -> None:
    root = _tcga_folder(tmp_path / "tcga")
    scan = scan_sources([DataSource("folder", root)])
    assert "CRC-Prim-HE-NN in their names" not in " ".join(scan.warnings)
    assert "all 50 tiles have no slide id" in scan.slide_id_warning
    assert "--slide-id" in scan.slide_id_warning
    tcga = regroup(scan, SlideIdRule.parse("tcga"))
    assert "2 of 50 tiles have no slide id by the TCGA" in tcga.slide_id_warning
    assert scan.slide_id_warning not in tcga.warnings and tcga.slide_id_warning in tcga.warnings
    assert tcga.groups["TUM"] == [f"TCGA-A{p}-{1000 + p}" for p in range(8)]
    shown = preview(tcga, 0.25, 0.25, seed=0, by_group=True)
    assert shown.group_by == "tcga" and shown.n_groups == 18
    tiles = [(i.path.name, dict(i.manifest_row)) for i in tcga.items]
    text = preview_groups(tiles, tcga.slide_id).summary()
    assert text.startswith("16 slides by the TCGA patient barcode") and "2 of 50 tiles" in text


def test_the_cli_and_the_run_config_carry_the_rule(tmp_path: Path) -> None:
    args = build_parser().parse_args(["train", "--data", str(tmp_path), "--slide-id",
                                      r"regex:^(H\d+)_"])  # fmt: skip
    config = build_config(args)
    assert config.slide_id == r"regex:^(H\d+)_"
    assert train_command(config)[-2:] == ["--slide-id", r"regex:^(H\d+)_"]
    assert TrainConfig(data=tmp_path).slide_id == "auto"
    bad = build_parser().parse_args(["train", "--data", str(tmp_path), "--slide-id", "regex:("])
    with pytest.raises(PathscaatError, match="not valid"):
        build_config(bad)
