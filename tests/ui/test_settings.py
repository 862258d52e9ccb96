"""Settings: one defaults table, typed reads, and no settings file can stop start-up."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray

from ui.settings import DEFAULTS, Settings


def test_defaults_when_file_is_absent(tmp_path: Path) -> None:
    s = Settings(tmp_path / "s.ini")
    for key, default in DEFAULTS.items():
        assert s.get(key) == default
        assert type(s.get(key)) is type(default)
    assert s.problems == []


def test_round_trip_keeps_types(tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    s = Settings(path)
    s.set("recent/max", 7)
    s.set("jobs/device", "cpu")
    s.set("errors/show_dialogs", False)
    s.set("window/geometry", QByteArray(b"\x01\x02\x00\xff"))
    s.set("recent/files", ["/a b/one.svs"])
    s.sync()
    again = Settings(path)
    assert again.get("recent/max") == 7
    assert again.get("jobs/device") == "cpu"
    assert again.get("errors/show_dialogs") is False
    assert again.get("window/geometry") == QByteArray(b"\x01\x02\x00\xff")
    assert again.get("recent/files") == ["/a b/one.svs"]
    assert again.problems == []


def test_wrong_typed_values_fall_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    path.write_text(
        "[recent]\nmax=lots\nfiles=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\nNotAType)\n"
        "[errors]\nshow_dialogs=perhaps\n[jobs]\ncancel_grace_ms=1e99x\n"
    )
    seen: list[str] = []
    s = Settings(path, on_problem=seen.append)
    assert s.get("recent/max") == DEFAULTS["recent/max"]
    assert s.get("errors/show_dialogs") is True
    assert s.get("jobs/cancel_grace_ms") == DEFAULTS["jobs/cancel_grace_ms"]
    assert isinstance(s.get("recent/files"), list)
    assert len(seen) >= 3 and seen == s.problems
    assert any("recent/max" in p for p in seen)


def test_unreadable_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    path.write_bytes(b"[window\x00\xff\xfe\n=\x00\x01garbage\n[unclosed\nx=1\n")
    s = Settings(path)
    assert len(s.problems) == 1 and "could not be read" in s.problems[0]
    assert len(list(tmp_path.glob("s.ini.broken-*"))) == 1
    assert s.get("recent/files") == []
    s.add_recent(tmp_path / "x.svs")
    s.sync()
    again = Settings(path)
    assert again.problems == []
    assert again.recent_files() == [str((tmp_path / "x.svs").resolve())]


def test_random_bytes_never_raise(tmp_path: Path) -> None:
    import random

    rng = random.Random(0)
    for i in range(20):
        path = tmp_path / f"r{i}.ini"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(2000)))
        s = Settings(path)
        for key, default in DEFAULTS.items():
            assert type(s.get(key)) is type(default)


def test_set_rejects_a_wrong_type(tmp_path: Path) -> None:
    import pytest

    s = Settings(tmp_path / "s.ini")
    with pytest.raises(TypeError):
        s.set("recent/max", "ten")
    with pytest.raises(KeyError):
        s.get("no/such/key")


def test_recent_files_are_unique_and_bounded(tmp_path: Path) -> None:
    s = Settings(tmp_path / "s.ini")
    s.set("recent/max", 3)
    for name in ("a", "b", "c", "a", "d"):
        s.add_recent(tmp_path / f"{name}.svs")
    names = [Path(p).stem for p in s.recent_files()]
    assert names == ["d", "a", "c"]
    s.remove_recent(tmp_path / "a.svs")
    assert [Path(p).stem for p in s.recent_files()] == ["d", "c"]
    s.clear_recent()
    assert s.recent_files() == []
