"""Projects in the app: new/open, add slides, thumbnails cached, runs' overlays restored,
the last project reopened, a second window read-only."""

from __future__ import annotations

from pathlib import Path

from tests.ui.project_fixtures import make_window, open_and_wait, overlays_for, picture
from ui.project.panel import ID_ROLE
from ui.project.thumbnails import cache_path


def test_new_project_add_slides_and_thumbnails(qtbot, tmp_path: Path) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    slides = [picture(tmp_path / "slides", f"s{i}.png", seed=i) for i in range(2)]
    broken = tmp_path / "slides" / "broken.svs"
    broken.write_bytes(b"not a slide")
    assert win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([*slides, broken, slides[0]])
    panel = win.projects.panel
    assert panel.list.count() == 2
    assert "s0.png" in panel.list.item(0).text()
    assert "0 annotations" in panel.list.item(0).text()
    problems = [r.message for r in win.errors.history]
    assert len(problems) == 1 and "broken.svs" in problems[0]  # one report for the bad file
    qtbot.waitUntil(lambda: not panel.list.item(1).icon().isNull(), timeout=10000)
    ids = [panel.list.item(i).data(ID_ROLE) for i in range(2)]
    pngs = [cache_path(tmp_path / "proj", i) for i in ids]
    assert all(p.is_file() for p in pngs)
    stamp = pngs[0].stat().st_mtime_ns
    panel.refresh()  # a second refresh reuses the cache
    qtbot.waitUntil(lambda: not panel.thumbnails.is_busy(), timeout=10000)
    assert pngs[0].stat().st_mtime_ns == stamp
    win.close()


def test_reopened_project_restores_runs_overlays(qtbot, tmp_path: Path) -> None:
    slide = picture(tmp_path / "slides", "a.png")
    win = make_window(qtbot, tmp_path / "settings.ini")
    win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([slide])
    run = win.projects.session.runs_folder(slide)
    assert run == (tmp_path / "proj" / "overlays" / "a").resolve()
    assert win.projects.session.record_run(overlays_for(slide, run))
    assert "1 run" in win.projects.panel.list.item(0).text()
    win.close()

    win = make_window(qtbot, tmp_path / "settings.ini")  # reopens the last project
    assert win.projects.session.root == (tmp_path / "proj").resolve()
    assert win.projects.panel.list.count() == 1
    item = win.projects.panel.list.item(0)
    win.projects.panel.list.itemActivated.emit(item)  # double-click opens the slide
    qtbot.waitUntil(lambda: win.slide is not None, timeout=20000)
    assert sorted(o.name for o in win.viewer.overlays()) == ["prob_a", "saliency"]
    assert item.font().bold()
    win.close()


def test_second_window_gets_the_project_read_only(qtbot, tmp_path: Path) -> None:
    first = make_window(qtbot, tmp_path / "one.ini")
    first.projects.new_project(tmp_path / "proj")
    second = make_window(qtbot, tmp_path / "two.ini")
    assert second.projects.open_project(tmp_path / "proj")
    assert second.projects.session.notice
    assert not second.projects.add_action.isEnabled()
    assert second.projects.panel.notice.isVisibleTo(second.projects.panel)
    assert any("read-only" in r.title for r in second.errors.history)
    second.close()
    first.close()


def test_open_a_folder_that_is_no_project_says_so(qtbot, tmp_path: Path) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    assert not win.projects.open_project(tmp_path)
    assert "not a PathSCAAT project" in win.errors.history[-1].message
    assert win.projects.session.project is None
    win.close()


def test_slide_outside_the_project_opens_plainly(qtbot, tmp_path: Path) -> None:
    win = make_window(qtbot, tmp_path / "settings.ini")
    win.projects.new_project(tmp_path / "proj")
    other = picture(tmp_path, "other.png")
    open_and_wait(qtbot, win, other)
    assert win.viewer.overlays() == []
    assert win.projects.session.record_for(other) is None
    win.close()


def test_model_run_on_a_project_slide_writes_and_records_in_the_project(
    qtbot, tmp_path: Path
) -> None:
    from ui.dialogs.run_model_dialog import RunRequest

    slide = picture(tmp_path / "slides", "a.png")
    win = make_window(qtbot, tmp_path / "settings.ini")
    win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides([slide])
    open_and_wait(qtbot, win, slide)
    asked = RunRequest(slide, tmp_path / "m", tmp_path / "elsewhere", "cpu", "vanilla")
    req = win.projects.run_request(asked)
    assert req.out == (tmp_path / "proj" / "overlays" / "a").resolve()
    outside = RunRequest(picture(tmp_path, "b.png"), tmp_path / "m", tmp_path / "x", "cpu", "")
    assert win.projects.run_request(outside) == outside  # not a project slide: as asked
    win.runs.sigOverlaysReady.emit(overlays_for(slide, req.out), slide)  # the child finished
    project = win.projects.session.project
    assert [r.output_dir for r in project.runs()] == [req.out]
    assert sorted(o.name for o in win.viewer.overlays()) == ["prob_a", "saliency"]
    win.close()
