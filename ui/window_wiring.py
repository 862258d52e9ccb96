"""The main window's wiring: what each menu and toolbar action does, which of the parts'
signals (loader, viewer, overlays, runs) reach which of the window's handlers, and when
each action is enabled. Split from :mod:`ui.main_window`, which keeps the handlers (slides,
overlays, runs) and the window's life; :mod:`ui.actions` makes the actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def connect_window(win: MainWindow) -> None:
    """Each action to what it does, and the parts' signals to the window's handlers."""
    a = win.actions_
    a.open.triggered.connect(win.choose_slide)
    a.open_overlays.triggered.connect(win.choose_overlays)
    a.close.triggered.connect(win.close_slide)
    a.quit.triggered.connect(win.close)
    a.zoom_in.triggered.connect(lambda: win.viewer.zoom_by(2.0))
    a.zoom_out.triggered.connect(lambda: win.viewer.zoom_by(0.5))
    a.fit.triggered.connect(win.viewer.fit)
    a.run_model.triggered.connect(win.run_model)
    a.train_model.triggered.connect(win.training.open_wizard)
    a.cancel_job.triggered.connect(win.runs.cancel)
    a.about.triggered.connect(win.show_about)
    a.show_logs.triggered.connect(win.show_logs)
    a.export_view.triggered.connect(lambda: win.exporter.ask(win.slide_path))
    for name, act in (("grid", a.show_grid), ("outline", a.show_outline)):
        act.toggled.connect(lambda on, n=name: win.viewer.set_decoration_visible(n, on))
    for mag, act in a.zoom_presets.items():
        act.triggered.connect(lambda _=False, m=mag: win.viewer.zoom_to_magnification(m))
    win.loader.sigLoaded.connect(win._slide_loaded)
    win.loader.sigFailed.connect(win._slide_failed)
    win.viewer.sigError.connect(
        lambda msg: win.errors.report(msg, title="Slide display problem")
    )
    win.viewer.sigCursorMoved.connect(win._cursor_moved)
    win.viewer.sigViewChanged.connect(win._view_changed)
    win.viewer.sigTilesPending.connect(win.status.set_tiles_pending)
    win.info_panel.sigMppChanged.connect(win._mpp_changed)
    win.overlays.sigLoaded.connect(win._overlays_loaded)
    win.overlays.sigSetsChanged.connect(win.annotations.measurer.set_overlays)
    win.runs.sigRunningChanged.connect(lambda _r: update_actions(win))
    win.runs.sigOverlaysReady.connect(win._run_succeeded)


def update_actions(win: MainWindow) -> None:
    """Enable what applies now: slide actions with a slide, Run Model unless a run is on,
    the zoom presets up to the slide's own magnification."""
    a = win.actions_
    has_slide = win.slide is not None
    running = win.runs.is_running()
    for act in (a.close, a.zoom_in, a.zoom_out, a.fit, a.open_overlays, a.export_view):
        act.setEnabled(has_slide)
    for name, act in (("grid", a.show_grid), ("outline", a.show_outline)):
        act.setEnabled(win.viewer.decorations.available(name))
        act.setChecked(win.viewer.decorations.wanted[name])
    a.run_model.setEnabled(has_slide and not running)
    win.annotation_files.update_actions()
    win.training.slide_changed(has_slide)
    a.cancel_job.setEnabled(running)
    native = native_magnification(win.slide)
    for mag, act in a.zoom_presets.items():
        act.setEnabled(native is not None and mag <= native * 1.01)


def native_magnification(slide: Any) -> float | None:
    """Scanning magnification: objective power, else 10 µm / mpp, else None."""
    if slide is None:
        return None
    if slide.objective_power:
        return float(slide.objective_power)
    mpp = slide.mpp
    return 10.0 / mpp.x if mpp is not None else None
