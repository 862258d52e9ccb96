"""The wizard adds nothing to training time: the same run through the wizard vs plain CLI.

Both sides run the same run config (the wizard's own, saved by its Train page) as a child
``pathscaat train --config FILE --progress json``. The wizard side is the real Train page:
its run controller parses every progress line, the live curves redraw, the saliency strip
reloads each epoch; the plain side is ``subprocess.Popen`` reading the same lines and
dropping them. Each pair alternates which side goes first, so load drifts and warm caches
hit both; the ratio of the medians is printed, for the whole run and from the first batch
record to the end (child start-up excluded), target <= 1.05x. While the wizard side
runs, a 1 ms timer records the UI thread's longest gap between ticks, and every
curve/strip update is timed (target: longest stall < 16 ms, one frame at 60 Hz); the UI
thread's own CPU time per handler is printed beside the wall time, since on a loaded
host preemption inflates the wall time.

    python benchmarks/bench_wizard_overhead.py                      # CPU, resnet10t 32 px
    python benchmarks/bench_wizard_overhead.py --device cuda --px 64 --epochs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))


class StallMeter:
    """Longest gap between 1 ms timer ticks (wall, and the UI thread's CPU time in it: on
    a loaded host the wall gap is mostly waiting for a core), when in the run it came and
    which timed handlers ran in it; and the longest timed UI handler."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.max_gap_s = 0.0
        self.max_gap_cpu_s = 0.0
        self.gap_at: dict[str, tuple[float, str]] = {}  # "wall"/"cpu": (s into run, handlers)
        self.max_handler_s = 0.0
        self.worst: dict[str, float] = {}
        self.worst_cpu: dict[str, float] = {}
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._t0 = self._last
        self._ran: list[str] = []  # handlers since the last tick
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        ran = ", ".join(dict.fromkeys(self._ran)) or "no timed handler"
        if now - self._last > self.max_gap_s:
            self.max_gap_s = now - self._last
            self.gap_at["wall"] = (self._last - self._t0, ran)
        if cpu - self._last_cpu > self.max_gap_cpu_s:
            self.max_gap_cpu_s = cpu - self._last_cpu
            self.gap_at["cpu"] = (self._last - self._t0, ran)
        self._last, self._last_cpu, self._ran = now, cpu, []

    def start(self) -> None:
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._t0 = self._last
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def timed(self, obj: Any, name: str) -> None:
        """Wrap ``obj.name`` so each call's duration is recorded."""
        inner = getattr(obj, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._ran.append(name)
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                took, cpu = time.perf_counter() - t0, time.thread_time() - c0
                self.max_handler_s = max(self.max_handler_s, took)
                self.worst[name] = max(self.worst.get(name, 0.0), took)
                self.worst_cpu[name] = max(self.worst_cpu.get(name, 0.0), cpu)

        setattr(obj, name, wrapper)


def make_page(args: argparse.Namespace, out: Path) -> Any:
    from ui.settings import Settings
    from ui.wizard.background import Background
    from ui.wizard.choices import WizardChoices
    from ui.wizard.context import WizardContext
    from ui.wizard.run_controller import TrainRunController
    from ui.wizard.train_page import TrainPage

    choices = WizardChoices(
        folders=[str(args.data)], backbone=args.backbone, input_px=args.px,
        epochs=args.epochs, batch_size=args.batch, device=args.device, workers=0,
        out_dir=str(out),
    )  # fmt: skip
    ctx = WizardContext(Settings(out.parent / "settings.ini"), Background(), choices)
    page = TrainPage(ctx, TrainRunController())
    page.resize(1000, 700)
    page.show()
    page.out_edit.setText(str(out))
    return page


def run_wizard(app: Any, page: Any, meter: StallMeter) -> tuple[float, float]:
    """(whole run, from the first batch record to the end) through the Train page."""
    from ui.wizard.run_controller import save_config

    run = page.plan()[0]
    save_config(run)
    ended: list[Any] = []
    first: list[float] = []
    page.controller.sigOutcome.connect(ended.append)
    page.controller.sigBatch.connect(lambda *_a: first or first.append(time.perf_counter()))
    settle = time.perf_counter() + 0.5  # the new page's first paints (~130 ms each on a
    while time.perf_counter() < settle:  # loaded host) are not part of the run
        app.processEvents()
        time.sleep(0.001)
    t0 = time.perf_counter()
    meter.start()
    page.controller.start([run])
    while not ended:
        app.processEvents()
        time.sleep(0.001)
    meter.stop()
    t1 = time.perf_counter()
    if ended[0].kind != "done":
        raise SystemExit(f"wizard run failed: {ended[0].message}")
    return t1 - t0, t1 - (first[0] if first else t0)


def run_plain(config_path: Path) -> tuple[float, float]:
    """(whole run, from the first batch record to the end) of plain ``pathscaat train``."""
    cmd = [sys.executable, "-m", "pathscaat.cli.main", "train", "--config", str(config_path),
           "--progress", "json"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    first = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, cwd=config_path.parent) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if first is None and b'"stage": "train"' in line:
                first = time.perf_counter()
    if proc.returncode != 0:
        raise SystemExit(f"plain run failed with exit code {proc.returncode}")
    t1 = time.perf_counter()
    return t1 - t0, t1 - (first or t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--data", type=Path, default=SHARED / "patches" / "kather-crc-mini")
    p.add_argument("--backbone", default="resnet10t")
    p.add_argument("--px", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="bench-wizard-"))
    meter = StallMeter()
    plain_s: list[tuple[float, float]] = []
    wizard_s: list[tuple[float, float]] = []
    for i in range(args.repeats):
        page = make_page(args, work / f"wizard-{i}")
        for obj, name in ((page.curves, "redraw"), (page.strip, "show_strip"),
                          (page.curves, "add_batch"), (page.curves, "add_epoch"),
                          (page.controller, "start"), (page.controller.runner, "_read_stdout"),
                          (page.controller.runner, "_read_stderr"),
                          (page.controller.runner, "_finished")):  # fmt: skip
            meter.timed(obj, name)
        plain_config = work / f"plain-{i}" / "run_config.json"
        from pathscaat.training.run_config import save_run_config

        config = page.plan()[0].config
        config.out = plain_config.parent
        plain_config.parent.mkdir(parents=True)
        save_run_config(config, plain_config)
        if i % 2:  # alternate the order: load drifts and warm caches hit both sides alike
            wizard_s.append(run_wizard(app, page, meter))
            plain_s.append(run_plain(plain_config))
        else:
            plain_s.append(run_plain(plain_config))
            wizard_s.append(run_wizard(app, page, meter))
        strips = sorted((work / f"wizard-{i}" / "strips").glob("*.png"))
        print(f"pair {i + 1}: plain {plain_s[-1][0]:.1f} s ({plain_s[-1][1]:.1f} s training), "
              f"wizard {wizard_s[-1][0]:.1f} s ({wizard_s[-1][1]:.1f} s training), "
              f"{len(strips)} strips")  # fmt: skip
    print(f"{args.backbone} {args.px} px, {args.epochs} epochs, batch {args.batch}, "
          f"{args.device}, {args.repeats} pairs")  # fmt: skip
    for k, what in ((0, "whole run"), (1, "first batch to end")):
        ratio = statistics.median(w[k] for w in wizard_s) / statistics.median(p[k] for p in plain_s)
        print(f"wizard / plain, {what} (medians): {ratio:.3f}x (target <= 1.05x)")
    print(
        f"longest UI handler (curves, strip, child start, progress read): "
        f"{meter.max_handler_s * 1000:.1f} ms; longest event-loop gap: "
        f"{meter.max_gap_s * 1000:.1f} ms wall, {meter.max_gap_cpu_s * 1000:.1f} ms of "
        f"UI-thread CPU (target < 16 ms; load average {os.getloadavg()[0]:.1f})"
    )
    for kind, (at, ran) in sorted(meter.gap_at.items()):
        print(f"  longest gap by {kind}: {at:.2f} s into a run, during: {ran}")
    worst = ", ".join(
        f"{k} {v * 1000:.1f} ms ({meter.worst_cpu[k] * 1000:.1f} ms CPU)"
        for k, v in sorted(meter.worst.items())
    )
    print(f"longest per handler, wall (UI-thread CPU time; the rest is the host's load): {worst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
