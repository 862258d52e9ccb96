"""JobRunner with real child processes: JSON-lines progress, result, error, crash, cancel.

The small Python children below speak the protocol of docs/DEVELOPING.md (child-process
jobs); the last test runs the real ``pathscaat infer`` from the window, end to end.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ui.jobs import JobProgress, JobRunner, cli_command, infer_arguments

HEADER = "import json, signal, sys, time\n"


def child(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(HEADER + textwrap.dedent(body))
    return [str(script)]


class Recorder:
    """Every signal of a runner, in order."""

    def __init__(self, runner: JobRunner) -> None:
        self.events: list[tuple[str, Any]] = []
        self.progress: list[JobProgress] = []
        runner.sigProgress.connect(self.progress.append)
        for name in ("sigResult", "sigFailed", "sigCancelled", "sigFinished", "sigEvent"):
            getattr(runner, name).connect(lambda *a, n=name: self.events.append((n, a)))

    def names(self) -> list[str]:
        return [n for n, _ in self.events if n != "sigEvent"]

    def arg(self, name: str) -> Any:
        return next(a[0] for n, a in self.events if n == name)


def run_to_end(qtbot, runner: JobRunner, args: list[str], timeout_ms: int = 20000) -> None:
    with qtbot.waitSignal(runner.sigFinished, timeout=timeout_ms):
        runner.start(sys.executable, args)


def test_progress_then_result(qtbot, tmp_path: Path) -> None:
    runner = JobRunner()
    rec = Recorder(runner)
    args = child(
        tmp_path,
        """
        print("a plain log line, not JSON", flush=True)
        print(json.dumps({"type": "progress", "stage": "grid", "done": 0, "total": 0,
                          "message": "m", "extra": {"warning": "no scale"}}), flush=True)
        for i in range(1, 5):
            print(json.dumps({"type": "progress", "stage": "infer", "done": i, "total": 4,
                              "message": f"batch {i}", "extra": {}}), flush=True)
            time.sleep(0.05)
        print(json.dumps({"type": "log", "message": "hello"}), flush=True)
        sys.stdout.write(json.dumps({"type": "result", "overlays": "/x/overlays.json"}))
        """,  # the last line has no newline: still parsed at exit
    )
    run_to_end(qtbot, runner, args)
    assert rec.names() == ["sigResult", "sigFinished"]
    assert rec.arg("sigResult")["overlays"] == "/x/overlays.json"
    assert rec.arg("sigFinished") == 0
    assert rec.progress[0].warning == "no scale" and rec.progress[0].fraction is None
    del rec.progress[0]
    assert [p.done for p in rec.progress] == [1, 2, 3, 4]
    assert rec.progress[-1].fraction == 1.0
    assert rec.progress[0].eta_s is None and rec.progress[2].eta_s is not None
    assert ("sigEvent", ({"type": "log", "message": "hello"},)) in rec.events
    assert not runner.is_running()


def test_error_line_becomes_the_message(qtbot, tmp_path: Path) -> None:
    runner = JobRunner()
    rec = Recorder(runner)
    args = child(
        tmp_path,
        """
        print("some warning first", file=sys.stderr)
        print("pathscaat: error: model.json: cannot load it. Choose another.", file=sys.stderr)
        sys.exit(1)
        """,
    )
    run_to_end(qtbot, runner, args)
    assert rec.names() == ["sigFailed", "sigFinished"]
    assert rec.arg("sigFailed") == "model.json: cannot load it. Choose another."
    assert rec.arg("sigFinished") == 1
    assert "some warning first" in runner.stderr_tail()


def test_crash_names_the_exception(qtbot, tmp_path: Path) -> None:
    runner = JobRunner()
    rec = Recorder(runner)
    args = child(tmp_path, 'raise ValueError("bad tile 17")\n')
    run_to_end(qtbot, runner, args)
    assert rec.names() == ["sigFailed", "sigFinished"]
    assert "ValueError: bad tile 17" in rec.arg("sigFailed")
    assert "Traceback" in runner.stderr_tail()


def test_exit_zero_without_result_is_a_failure(qtbot, tmp_path: Path) -> None:
    runner = JobRunner()
    rec = Recorder(runner)
    run_to_end(qtbot, runner, child(tmp_path, "pass\n"))
    assert rec.names() == ["sigFailed", "sigFinished"]
    assert "without a result" in rec.arg("sigFailed")


LOOP = """
def stop(signum, frame):
    print("pathscaat: cancelled: stopped by signal", file=sys.stderr, flush=True)
    sys.exit(130)
{handler}
for i in range(1000):
    print(json.dumps({{"type": "progress", "stage": "infer", "done": i, "total": 1000,
                       "message": "", "extra": {{}}}}), flush=True)
    time.sleep(0.02)
"""


@pytest.mark.parametrize("obeys", [True, False], ids=["sigterm", "kill-after-grace"])
def test_cancel(qtbot, tmp_path: Path, obeys: bool) -> None:
    handler = (
        "signal.signal(signal.SIGTERM, stop)"
        if obeys
        else "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    )
    runner = JobRunner(cancel_grace_ms=300)
    rec = Recorder(runner)
    runner.start(sys.executable, child(tmp_path, LOOP.format(handler=handler)))
    qtbot.waitUntil(lambda: len(rec.progress) >= 3, timeout=10000)
    with pytest.raises(RuntimeError, match="already running"):
        runner.start(sys.executable, ["-c", "pass"])
    with qtbot.waitSignal(runner.sigFinished, timeout=10000):
        runner.cancel()
    assert rec.names() == ["sigCancelled", "sigFinished"]
    assert not runner.is_running()


def test_stop_and_wait_kills_a_child_that_ignores_sigterm(qtbot, tmp_path: Path) -> None:
    runner = JobRunner(cancel_grace_ms=200)
    rec = Recorder(runner)
    ignores = LOOP.format(handler="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    runner.start(sys.executable, child(tmp_path, ignores))
    qtbot.waitUntil(lambda: len(rec.progress) >= 3, timeout=10000)
    runner.stop_and_wait()  # the window's teardown: blocks until the child is gone
    assert not runner.is_running()
    runner.stop_and_wait()  # nothing running: returns at once


def test_program_that_cannot_start(qtbot, tmp_path: Path) -> None:
    runner = JobRunner()
    rec = Recorder(runner)
    with qtbot.waitSignal(runner.sigFinished, timeout=5000):
        runner.start(str(tmp_path / "no-such-program"), [])
    assert rec.names() == ["sigFailed", "sigFinished"]
    assert "Could not start" in rec.arg("sigFailed")
    assert rec.arg("sigFinished") == -1


def test_infer_command_line() -> None:
    program, *lead = cli_command()
    assert program == sys.executable and lead == ["-m", "pathscaat.cli.main"]
    args = infer_arguments("s.svs", "m.json", "out", saliency="gradcam", device="cpu")
    assert args[:2] == ["infer", str(Path.cwd() / "s.svs")]  # the child runs elsewhere
    assert args[args.index("--out") + 1] == str(Path.cwd() / "out")
    assert args[args.index("--progress") + 1] == "json"
    assert args[args.index("--saliency") + 1] == "gradcam"
    assert "--slide-mpp" not in args
    args = infer_arguments(
        "s.png", "m.json", "out", saliency="vanilla", device="cpu", slide_mpp=0.25
    )
    assert args[-4:] == ["--slide-mpp", "0.25", "--slide-mpp-source", "user"]


# -- the real `pathscaat infer` from the window ------------------------------------------


def synthetic_slide(folder: Path) -> Path:
    """A 1024 px PNG (no µm/px of its own): a pink 'tissue' ellipse on white."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:1024, 0:1024]
    rgb = np.full((1024, 1024, 3), 245, np.uint8)
    blob = ((xx - 500) / 380) ** 2 + ((yy - 520) / 300) ** 2 < 1
    noise = rng.integers(-25, 25, (int(blob.sum()), 3))
    rgb[blob] = (np.array([200, 120, 170]) + noise).clip(0, 255)
    path = folder / "synthetic slide.png"
    Image.fromarray(rgb).save(path)
    return path


def tiny_checkpoint(folder: Path) -> Path:
    """A randomly initialised resnet10t for 32 px tiles at 4 µm/px (as tests/core does)."""
    import torch

    from pathscaat.models import CheckpointMeta, create_model, save_checkpoint

    torch.manual_seed(0)
    model = create_model("resnet10t", 2)
    meta = CheckpointMeta(
        backbone="resnet10t", class_names=["a", "b"], input_px=32,
        mean=list(model.mean), std=list(model.std), mpp=4.0,
    )  # fmt: skip
    return Path(save_checkpoint(folder / "tiny", model, meta))


@pytest.fixture
def window_with_slide(qtbot, tmp_path: Path):
    from ui.main_window import MainWindow
    from ui.settings import Settings

    win = MainWindow(Settings(tmp_path / "s.ini"), interactive=False)
    qtbot.addWidget(win)
    win.show()
    win.open_slide(synthetic_slide(tmp_path))
    qtbot.waitUntil(lambda: win.slide is not None, timeout=20000)
    yield win
    win.close()


@pytest.mark.slow
def test_model_run_end_to_end_through_the_window(qtbot, window_with_slide, tmp_path: Path):
    from pathscaat.inference.overlays import OverlaySet
    from ui.dialogs.run_model_dialog import RunRequest

    win = window_with_slide
    assert win.slide.mpp is None
    win.info_panel.apply_mpp(0.5)  # the user sets µm/px; the child gets it as --slide-mpp
    out = tmp_path / "run out"
    req = RunRequest(win.slide_path, tiny_checkpoint(tmp_path), out, "cpu", "vanilla", 0.5)
    stages: list[str] = []
    messages: list[str] = []
    win.runs.runner.sigProgress.connect(
        lambda p: (stages.append(p.stage), messages.append(p.message))
    )
    win.runs.start(req)
    assert win.actions_.cancel_job.isEnabled() and not win.actions_.run_model.isEnabled()
    qtbot.waitUntil(lambda: not win.runs.is_running(), timeout=120000)
    assert win.errors.history == [], win.errors.history
    assert "infer" in stages
    assert not any("no µm/px" in m for m in messages), "the user's µm/px did not reach the run"
    names = [o.name for o in win.viewer.overlays()]
    assert names[:2] == ["classes", "saliency"]  # the class map under the saliency
    assert {"prob_a", "prob_b", "tissue"} <= set(names)
    assert win.actions_.show_grid.isEnabled() and win.actions_.show_outline.isEnabled()
    assert set(win.layers_panel.cards) == set(names)
    assert OverlaySet.load(out).slide_dims == win.slide.dimensions
    assert not win.status.job_bar.isVisible()
    assert win.actions_.run_model.isEnabled() and not win.actions_.cancel_job.isEnabled()


@pytest.mark.slow
def test_failed_model_run_shows_the_childs_error(qtbot, window_with_slide, tmp_path: Path):
    from ui.dialogs.run_model_dialog import RunRequest

    win = window_with_slide
    ckpt = tmp_path / "broken.json"
    ckpt.write_text("{not json")
    ckpt.with_suffix(".safetensors").write_bytes(b"\x00" * 64)
    win.runs.start(RunRequest(win.slide_path, ckpt, tmp_path / "out", "cpu", "vanilla"))
    qtbot.waitUntil(lambda: not win.runs.is_running(), timeout=60000)
    report = win.errors.history[-1]
    assert report.title == "Model run failed"
    assert "broken.json" in report.message and "Traceback" not in report.message
    assert win.viewer.overlays() == [] and win.isVisible()


@pytest.mark.slow
def test_cancel_a_real_model_run(qtbot, window_with_slide, tmp_path: Path) -> None:
    """Cancel from the status bar: the child stops on SIGTERM and keeps its finished tiles."""
    from ui.dialogs.run_model_dialog import RunRequest

    win = window_with_slide
    out = tmp_path / "cancelled run"
    ckpt = tiny_checkpoint(tmp_path)
    req = RunRequest(win.slide_path, ckpt, out, "cpu", "vanilla", 4.0)  # ~350 tiles
    scored: list[int] = []
    win.runs.runner.sigProgress.connect(lambda p: p.stage == "infer" and scored.append(p.done))
    cancelled: list[bool] = []
    win.runs.runner.sigCancelled.connect(lambda: cancelled.append(True))
    win.runs.start(req)
    qtbot.waitUntil(lambda: bool(scored), timeout=60000)  # scoring has begun
    win.status.job_cancel.click()
    qtbot.waitUntil(lambda: not win.runs.is_running(), timeout=30000)
    assert cancelled == [True]
    assert win.errors.history == []
    assert "cancelled" in win.status.currentMessage()
    assert not (out / "overlays.json").exists() and win.viewer.overlays() == []
    assert win.actions_.run_model.isEnabled()
