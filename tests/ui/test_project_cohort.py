"""Analysis ▸ Run Model on Project Slides: `pathscaat infer-cohort` as a child job over two
tiny generated slides; each slide's run is recorded and its overlays appear when opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.project_fixtures import make_window, open_and_wait

CLASSES = ["benign", "tumour"]


def tiny_cohort(root: Path) -> tuple[list[Path], Path]:
    """Two small synthetic slides (with µm/px) and a random tiny checkpoint."""
    import torch

    from pathscaat.data.synthetic_slide import write_synthetic_slide
    from pathscaat.models import CheckpointMeta, create_model, save_checkpoint

    slides = [root / "slides" / f"c{i}.tif" for i in range(2)]
    for i, path in enumerate(slides):
        write_synthetic_slide(path, width=768, height=512, seed=i, tile=256)
    torch.manual_seed(0)
    model = create_model("resnet10t", len(CLASSES))
    meta = CheckpointMeta(
        backbone="resnet10t", class_names=CLASSES, input_px=32,
        mean=list(model.mean), std=list(model.std), mpp=2.0,
    )  # fmt: skip
    ckpt = root / "model" / "tiny"
    save_checkpoint(ckpt, model, meta)
    return slides, ckpt


@pytest.mark.slow
def test_cohort_from_the_menu_completes_and_overlays_follow(qtbot, tmp_path: Path) -> None:
    slides, ckpt = tiny_cohort(tmp_path)
    win = make_window(qtbot, tmp_path / "settings.ini")
    win.settings.set("jobs/device", "cpu")
    win.projects.new_project(tmp_path / "proj")
    win.projects.add_slides(slides)
    open_and_wait(qtbot, win, slides[1])  # on screen while the cohort runs
    assert win.viewer.overlays() == []
    cohort = win.projects.cohort
    titles: list[str] = []
    cohort.runner.sigProgress.connect(lambda _p: titles.append(win.status.job_label.text()))
    with qtbot.waitSignal(cohort.sigFinished, timeout=120000) as done:
        assert win.projects.start_cohort(ckpt)
        assert not win.projects.cohort_action.isEnabled()
    assert done.args[0].startswith("Cohort run finished"), done.args
    assert "2 of 2 slides" in done.args[0]
    assert any("slide 2 of 2" in t for t in titles), titles[-3:]
    project = win.projects.session.project
    assert project is not None
    runs = {project.slide(r.slide_id).name: r.output_dir for r in project.runs()}
    out = tmp_path / "proj" / "overlays" / "cohort-tiny"
    assert runs == {"c0.tif": (out / "c0").resolve(), "c1.tif": (out / "c1").resolve()}
    assert (out / "cohort.csv").is_file()
    names = {o.name for o in win.viewer.overlays()}  # the slide on screen got its overlays
    assert {"saliency", "prob_tumour"} <= names
    open_and_wait(qtbot, win, slides[0])  # and the other slide's appear when it is opened
    assert {"saliency", "prob_tumour"} <= {o.name for o in win.viewer.overlays()}
    assert win.projects.cohort_action.isEnabled()
    assert [r.title for r in win.errors.history if not r.minor] == []
    win.close()
