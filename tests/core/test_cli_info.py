"""``pathscaat info``: text and JSON reports, exit codes 0/1/2, one clear line per user error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pathscaat.cli.main import main


def test_info_json_of_real_svs(cmu_svs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(cmu_svs), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["backend"], info["vendor"]) == ("openslide", "aperio")
    assert info["dimensions"] == [2220, 2967]
    assert info["levels"] == [{"level": 0, "width": 2220, "height": 2967, "downsample": 1.0}]
    assert info["mpp"]["x"] == pytest.approx(0.499) and info["mpp"]["source"] == "openslide"
    assert info["objective_power"] == 20
    assert info["associated_images"]["label"] == {"width": 387, "height": 463}
    assert set(info["associated_images"]) == {"label", "macro", "thumbnail"}


def test_info_text_of_real_ndpi(dapi_ndpi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(dapi_ndpi)]) == 0
    out = capsys.readouterr().out
    assert "hamamatsu" in out and "40x" in out and "0.2282" in out
    assert "downsample 64" in out and "macro (1188 x 406)" in out


def test_info_mpp_override(cmu_svs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(cmu_svs), "--json", "--mpp", "0.25"]) == 0
    mpp = json.loads(capsys.readouterr().out)["mpp"]
    assert (mpp["x"], mpp["source"]) == (0.25, "user")


@pytest.mark.parametrize("name,content", [("broken.svs", b"\x00garbage" * 100),
                                          ("empty.ndpi", b""), ("notes.txt", b"hello\n")])
def test_bad_file_is_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pathscaat: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and str(path) in err


def test_missing_file_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "gone.svs")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["info"], ["info", "x.svs", "--mpp", "-1"],
                                  ["info", "x.svs", "--mpp", "abc"], ["info", "x", "--bogus"]])
def test_bad_usage_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_console_script(cmu_svs: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "pathscaat"
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    ok = subprocess.run([str(script), "info", str(cmu_svs), "--json"], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["vendor"] == "aperio"
    bad = tmp_path / "bad.svs"
    bad.write_bytes(b"MM\x00*" + b"\x00" * 16)
    fail = subprocess.run([str(script), "info", str(bad)], capture_output=True, text=True,
                          timeout=120)
    assert fail.returncode == 1
    assert fail.stderr.startswith("pathscaat: error: ") and "Traceback" not in fail.stderr
