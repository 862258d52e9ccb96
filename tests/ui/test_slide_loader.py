"""Slides open off the UI thread; a newer request makes an older one stale (closed, dropped)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer

from pathscaat.slides import open_slide
from ui.loader import SlideLoader


def slow_open(delay_s: float):
    def opener(path: Path):
        time.sleep(delay_s)
        return open_slide(path)

    return opener


def test_slow_open_does_not_block_the_caller(qtbot, cmu_svs: Path) -> None:
    loader = SlideLoader(opener=slow_open(0.8))
    got: list[tuple[Path, object]] = []
    loader.sigLoaded.connect(lambda p, s: got.append((p, s)))
    t0 = time.monotonic()
    loader.open(cmu_svs)
    assert time.monotonic() - t0 < 0.2  # the UI thread is free at once
    assert loader.is_busy()
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(50)
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    timer.stop()
    assert len(ticks) >= 5, "the event loop kept running while the slide opened"
    path, slide = got[0]
    assert path == cmu_svs and slide.dimensions == (2220, 2967)
    slide.close()
    assert loader.shutdown(5000)


def test_stale_open_is_closed_and_dropped(qtbot, cmu_svs: Path, dapi_ndpi: Path) -> None:
    opened: list[object] = []

    def opener(path: Path):
        time.sleep(0.6 if path == dapi_ndpi else 0.0)
        slide = open_slide(path)
        opened.append(slide)
        return slide

    loader = SlideLoader(opener=opener)
    got: list[Path] = []
    loader.sigLoaded.connect(lambda p, s: got.append(p))
    loader.open(dapi_ndpi)  # slow, and overtaken by the next request
    loader.open(cmu_svs)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=10000)
    qtbot.wait(100)
    assert got == [cmu_svs]
    stale = next(s for s in opened if s.path == dapi_ndpi)
    assert stale.closed
    for s in opened:
        s.close()
    assert loader.shutdown(5000)


def test_errors_arrive_as_signals(qtbot, tmp_path: Path) -> None:
    loader = SlideLoader()
    failures: list[tuple[Path, BaseException]] = []
    loader.sigFailed.connect(lambda p, e: failures.append((p, e)))
    missing = tmp_path / "nowhere.svs"
    loader.open(missing)
    qtbot.waitUntil(lambda: bool(failures), timeout=10000)
    assert failures[0][0] == missing
    assert "nowhere.svs" in str(failures[0][1])
    assert loader.shutdown(5000)
