"""The main window with real slides: open, info, errors, settings, overlays, clean close."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent

from pathscaat.inference.overlays import OverlayInfo, OverlaySet
from pathscaat.inference.pyramid_writer import write_pyramid
from ui.errors import ErrorSink
from ui.main_window import MainWindow
from ui.settings import Settings

REAL_SLIDES = {"CMU-1-Small-Region.svs": 0.499, "test3-DAPI-2-(387).ndpi": 0.228}


@pytest.fixture
def window(qtbot, tmp_path: Path):
    win = MainWindow(Settings(tmp_path / "settings.ini"), interactive=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def open_and_wait(qtbot, win: MainWindow, path: Path) -> None:
    win.open_slide(path)
    qtbot.waitUntil(lambda: win.slide is not None and win.slide_path == path, timeout=20000)


def plain_image(tmp_path: Path, name: str = "photo.png") -> Path:
    """A small real PNG: opens with the plain-image backend, which knows no µm/px."""
    rng = np.random.default_rng(0)
    rgb = np.full((300, 400, 3), 240, np.uint8)
    rgb[60:240, 80:320] = rng.integers(120, 200, (180, 240, 3), dtype=np.uint8)
    path = tmp_path / name
    Image.fromarray(rgb).save(path)
    return path


def test_window_opens_empty(window: MainWindow) -> None:
    assert window.windowTitle() == "PathSCAAT"
    assert window.stack.currentIndex() == 0
    assert not window.actions_.close.isEnabled()
    assert not window.actions_.run_model.isEnabled()
    assert window.width() >= 1000 and window.height() >= 700
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "View", "Analysis", "Annotations", "Help"]
    help_menu = window.menuBar().actions()[4].menu()
    items = [a.text().replace("&", "") for a in help_menu.actions() if a.text()]
    assert items == ["Show Log Folder", "About PathSCAAT"]


@pytest.mark.parametrize("name", sorted(REAL_SLIDES))
def test_real_slide_opens_and_info_shows_mpp(
    qtbot, window: MainWindow, shared_data: Path, name: str
) -> None:
    path = shared_data / "slides" / name
    open_and_wait(qtbot, window, path)
    assert window.stack.currentWidget() is window.viewer
    assert window.info_panel.fields["µm/px"].text().startswith(f"{REAL_SLIDES[name]:.3g}")
    assert "Source" in window.info_panel.fields
    meta = window.info_panel.metadata
    assert meta is not None and meta.topLevelItemCount() == len(window.slide.properties)
    assert name in window.windowTitle()
    assert window.settings.recent_files()[0] == str(path.resolve())
    assert window.actions_.zoom_presets[1.0].isEnabled()
    assert window.viewer.zoom_to_magnification(10.0)
    qtbot.waitUntil(lambda: "×" in window.status.magnification.text(), timeout=5000)
    assert window.errors.history == []


def test_corrupt_file_reports_error_and_window_survives(
    qtbot, window: MainWindow, tmp_path: Path, shared_data: Path
) -> None:
    bad = tmp_path / "broken scan (1).svs"
    bad.write_bytes(os.urandom(8192))
    window.open_slide(bad)
    qtbot.waitUntil(lambda: bool(window.errors.history), timeout=20000)
    report = window.errors.history[-1]
    assert report.title == "Cannot open slide" and not report.minor
    assert "broken scan (1).svs" in report.message
    assert window.slide is None and window.isVisible()
    open_and_wait(qtbot, window, shared_data / "slides" / "CMU-1-Small-Region.svs")
    assert len(window.errors.history) == 1


def test_missing_file_is_reported_and_dropped_from_recent(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    gone = tmp_path / "gone.svs"
    window.settings.add_recent(gone)
    window.open_slide(gone)
    qtbot.waitUntil(lambda: bool(window.errors.history), timeout=10000)
    assert "gone.svs" in window.errors.history[-1].message
    assert window.settings.recent_files() == []


def test_newest_open_wins(qtbot, window: MainWindow, tmp_path: Path, shared_data: Path) -> None:
    window.open_slide(shared_data / "slides" / "test3-DAPI-2-(387).ndpi")
    window.open_slide(plain_image(tmp_path))
    qtbot.waitUntil(lambda: window.slide is not None, timeout=20000)
    qtbot.wait(300)  # the older open finishes too, and must be dropped
    assert window.slide_path == tmp_path / "photo.png"


def test_set_mpp_on_a_slide_without_one(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, plain_image(tmp_path))
    assert window.slide.mpp is None
    assert "unknown" in window.info_panel.fields["µm/px"].text()
    assert not any(a.isEnabled() for a in window.actions_.zoom_presets.values())
    window.info_panel.apply_mpp(0.5)
    assert window.slide.mpp.source == "user"
    assert window.info_panel.fields["Source"].text().startswith("set by you for this session")
    assert window.actions_.zoom_presets[20.0].isEnabled()
    assert not window.actions_.zoom_presets[40.0].isEnabled()
    window.status.set_cursor(100, 10, 0.5, 0.5)
    assert "50.0, 5.0 µm" in window.status.position.text()


def write_overlays(folder: Path, slide_dims: tuple[int, int]) -> Path:
    """A real overlay set: a ramp saliency raster and a probability raster, 8 l0 px per px."""
    w, h = math.ceil(slide_dims[0] / 8), math.ceil(slide_dims[1] / 8)
    ramp = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    write_pyramid(folder / "saliency.tif", ramp, l0_per_px=8, min_level_px=32)
    write_pyramid(folder / "prob_a.tif", ramp[:, ::-1].copy(), l0_per_px=8, min_level_px=32)
    infos = [
        OverlayInfo("saliency", "saliency", "saliency.tif", 8.0),
        OverlayInfo("prob_a", "probability", "prob_a.tif", 8.0, class_name="a"),
    ]
    OverlaySet(folder, "photo.png", slide_dims, ["a"], infos).save()
    return folder


def test_overlays_load_into_viewer_and_layers_panel(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    open_and_wait(qtbot, window, plain_image(tmp_path))
    folder = write_overlays(tmp_path / "run", window.slide.dimensions)
    window.load_overlays(folder)
    assert [o.name for o in window.viewer.overlays()] == ["saliency", "prob_a"]
    cards = window.layers_panel.cards
    assert set(cards) == {"saliency", "prob_a"}
    assert cards["saliency"].visible_box.isChecked()
    assert not cards["prob_a"].visible_box.isChecked()  # probabilities start hidden
    cards["saliency"].opacity_slider.setValue(80)
    assert window.viewer.overlays()[0].opacity == pytest.approx(0.8)
    cards["saliency"].colormap_combo.setCurrentText("viridis")
    assert window.viewer.overlays()[0].colormap == "viridis"
    cards["saliency"].visible_box.setChecked(False)
    assert not window.viewer.overlays()[0].visible
    window.overlays.remove("prob_a")
    assert [o.name for o in window.viewer.overlays()] == ["saliency"]
    window.load_overlays(folder)  # again: replaces, does not duplicate
    assert len(window.viewer.overlays()) == 2
    assert window.errors.history == []


def test_bad_overlay_folder_is_reported(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, plain_image(tmp_path))
    window.load_overlays(tmp_path)  # no overlays.json here
    assert "overlays.json" in window.errors.history[-1].message
    assert window.viewer.overlays() == []


def test_drop_a_file_opens_it(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path = plain_image(tmp_path, "dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.slide_path == path, timeout=10000)


def test_recent_menu_lists_opened_slides(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, plain_image(tmp_path))
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert texts[0] == "photo.png" and "Clear List" in texts
    window.close_slide()
    assert window.stack.currentWidget() is window.empty_page
    assert "photo.png" in window.empty_page.recent.text()
    window.empty_page.recent.linkActivated.emit(str((tmp_path / "photo.png").resolve()))
    qtbot.waitUntil(lambda: window.slide is not None, timeout=10000)


def test_corrupt_settings_file_does_not_stop_start_up(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    garbage = b"[window\ngeometry=@ByteArray(\x00\xff\n[recent]\nmax=many\n"
    path.write_bytes(garbage + os.urandom(500))
    win = MainWindow(Settings(path), interactive=False)
    qtbot.addWidget(win)
    win.show()
    assert win.isVisible()
    assert any(r.title == "Settings" and r.minor for r in win.errors.history)
    win.close()
    assert Settings(path).problems == []  # the window saved a clean file


def test_close_leaves_no_threads(qtbot, tmp_path: Path, shared_data: Path) -> None:
    before = threading.active_count()
    win = MainWindow(Settings(tmp_path / "s.ini"), interactive=False)
    qtbot.addWidget(win)
    win.show()
    open_and_wait(qtbot, win, shared_data / "slides" / "test3-DAPI-2-(387).ndpi")
    win.viewer.zoom_by(4.0)
    win.open_slide(shared_data / "slides" / "CMU-1-Small-Region.svs")  # in flight at close
    slide = win.slide
    win.close()
    assert slide.closed
    assert win.viewer.loader.closed
    assert win.loader._pool.activeThreadCount() == 0
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert threading.active_count() == before


def test_error_sink_coalesces_dialogs(qtbot) -> None:
    sink = ErrorSink(None, show_dialogs=True)
    lines: list[str] = []
    sink.set_status_callback(lines.append)
    sink.report("tile 3 unreadable", title="Slide display problem")
    first = sink.dialog
    assert first is not None and first.isVisible()
    sink.report("tile 3 unreadable", title="Slide display problem")  # a repeat: status bar
    sink.report("another problem", title="Other")  # added to the open dialog
    assert sink.dialog is first
    assert "another problem" in first.informativeText()
    assert lines == ["Slide display problem: tile 3 unreadable"]
    assert len(sink.history) == 3
    sink.close_dialog()
    qtbot.waitUntil(lambda: sink.dialog is None, timeout=2000)


def test_app_main_with_exit_timer_and_corrupt_user_settings(tmp_path: Path, cmu_svs) -> None:
    """The real entry point: corrupt per-user settings, slide and overlays arguments, auto-exit."""
    config = tmp_path / "config" / "PathSCAAT"
    config.mkdir(parents=True)
    (config / "pathscaat-gui.ini").write_bytes(b"[window\n\x00\xff garbage")
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", PATHSCAAT_GUI_EXIT_AFTER_S="2",
        XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
    )  # fmt: skip
    overlays = write_overlays(tmp_path / "run", (2220, 2967))
    code = "import sys, ui.app; sys.exit(ui.app.main(sys.argv[1:]))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(cmu_svs), "--overlays", str(overlays)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    logs = list((tmp_path / "data").rglob("pathscaat-gui.log"))
    assert logs, "the per-user log file was not written"
    text = logs[0].read_text()
    assert "could not be read" in text and "started" in text
    assert f"loaded 2 overlays from {overlays}" in text
    assert list(config.glob("pathscaat-gui.ini.broken-*"))


def test_finished_run_for_another_slide_does_not_land_on_this_one(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    open_and_wait(qtbot, window, plain_image(tmp_path))
    folder = write_overlays(tmp_path / "run", window.slide.dimensions)
    window._run_succeeded(folder, tmp_path / "other slide.svs")
    assert window.viewer.overlays() == []
    assert (
        window.errors.history[-1].minor and "other slide.svs" in window.errors.history[-1].message
    )
    window._run_succeeded(folder, tmp_path / "photo.png")
    assert len(window.viewer.overlays()) == 2


def test_default_layout_has_no_overlaps(qtbot, window: MainWindow, cmu_svs: Path) -> None:
    """At 1280 x 800 with a run in progress, no status field or panel covers another."""
    from ui.jobs import JobProgress

    open_and_wait(qtbot, window, cmu_svs)
    window.resize(1280, 800)
    window.status.set_job(JobProgress("infer", 640, 1370, "", 75.0))
    window.status.set_cursor(2219, 2966, 0.499, 0.499)
    window.status.set_tiles_pending(128)
    window.status.set_magnification(20.0)
    qtbot.wait(50)
    status = window.status
    fields = [status.job_label, status.job_bar, status.job_cancel, status.tiles]
    fields += [status.magnification, status.position]
    rects = [w.geometry() for w in fields]
    for i, a in enumerate(rects):
        assert status.rect().contains(a), fields[i]
        assert fields[i].width() >= min(fields[i].sizeHint().width(), 300)
        for b in rects[i + 1 :]:
            assert not a.intersects(b)
    central = window.centralWidget().geometry()
    for dock in (window.overview_dock, window.info_dock, window.layers_dock):
        if dock.isVisible():
            assert not central.intersects(dock.geometry())
    assert central.width() >= 800


def test_error_sink_logs_everything_and_catches_stray_exceptions(qtbot, caplog) -> None:
    sink = ErrorSink(None, show_dialogs=False)
    try:
        raise RuntimeError("reader thread died")
    except RuntimeError as exc:
        sink.report_exception(exc, title="Worker", context="Reading tiles failed.")
    sink.excepthook(ValueError, ValueError("slot blew up"), None)
    assert [r.title for r in sink.history] == ["Worker", "Unexpected error"]
    assert sink.history[0].message == "Reading tiles failed. RuntimeError: reader thread died"
    assert "slot blew up" in sink.history[1].message
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged and "reader thread died" in logged and "slot blew up" in logged


def test_window_state_persists(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    win = MainWindow(Settings(path), interactive=False)
    qtbot.addWidget(win)
    win.show()
    win.resize(760, 560)  # inside the 800 x 600 offscreen screen, which restoring respects
    win.overview_dock.hide()
    qtbot.wait(20)
    size = (win.width(), win.height())
    win.close()
    again = MainWindow(Settings(path), interactive=False)
    qtbot.addWidget(again)
    again.show()
    qtbot.wait(20)
    assert (again.width(), again.height()) == size
    assert not again.overview_dock.isVisible() and again.info_dock.isVisible()
    assert again.errors.history == []
    again.close()


def test_error_sink_accepts_reports_from_other_threads(qtbot, monkeypatch) -> None:
    sink = ErrorSink(None, show_dialogs=True)
    worker = threading.Thread(
        target=lambda: sink.report("disk full while writing tiles", title="Worker")
    )
    worker.start()
    worker.join()
    assert sink.history == []  # queued: recorded and shown on the UI thread
    qtbot.waitUntil(lambda: bool(sink.history), timeout=2000)
    assert sink.dialog is not None and sink.dialog.text() == "disk full while writing tiles"
    monkeypatch.setattr(threading, "excepthook", sink.thread_excepthook)
    crashing = threading.Thread(target=lambda: 1 / 0)
    crashing.start()
    crashing.join()
    qtbot.waitUntil(lambda: len(sink.history) == 2, timeout=2000)
    assert sink.history[1].title == "Unexpected error"
    assert "ZeroDivisionError" in sink.history[1].message
    sink.close_dialog()
