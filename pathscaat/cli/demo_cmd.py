"""``pathscaat demo``: the whole loop on generated synthetic data, to see it work.

Writes a small "PathSCAAT synthetic" slide (not real tissue) with planted atypical and
inflamed regions, prints what ``info`` sees, tiles it, writes a synthetic patch set with
evidence masks, trains a small ERM and a small SCAAT model on it (same recipe and seed),
evaluates the saliency of both, runs the SCAAT model over the slide, and prints where
everything is and how to look at it in the app. Ctrl-C stops it (exit 130).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg
from pathscaat.progress import ProgressRecord


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole loop on generated synthetic data",
        description=(__doc__ or "").split("\n\n")[1].replace("\n", " ").replace("``", ""),
    )
    p.add_argument(
        "--out", default="pathscaat-demo", help="output folder (default ./pathscaat-demo)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the training")
    p.add_argument("--quick", action="store_true", help="a much smaller and faster run (for tests)")
    p.add_argument(
        "--open", action="store_true", help="open the result in the desktop app at the end"
    )
    p.add_argument(
        "--threads", type=int, default=None,
        help="torch CPU threads (default: the cores not already busy)",
    )  # fmt: skip
    add_progress_arg(p)
    p.set_defaults(func=run)


def _info_text(info: dict[str, Any]) -> str:
    mpp = info["mpp"]
    mpp_text = "unknown" if mpp is None else f"{mpp['x']:.4g} µm/px (source: {mpp['source']})"
    w, h = info["dimensions"]
    return "\n".join([
        f"slide:      {info['path']}",
        f"format:     {info['vendor']} (backend {info['backend']})",
        f"dimensions: {w} x {h} px, {info['level_count']} levels",
        f"mpp:        {mpp_text}",
    ])  # fmt: skip


class _StepPrinter(ProgressPrinter):
    """Bars per step: a ``demo`` record closes the last step's bars and names the next."""

    def __call__(self, rec: ProgressRecord) -> None:
        if rec.stage != "demo" or self.mode == "json":
            super().__call__(rec)
            return
        self.close()
        if self.mode == "bar" and rec.done < rec.total:
            print(f"[{rec.done + 1}/{rec.total}] {rec.message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from pathscaat.cli.jobs import stop_on_signals
    from pathscaat.demo import FULL, QUICK, run_demo

    printer = _StepPrinter(args.progress)
    start = time.perf_counter()
    try:
        with stop_on_signals(abort_on_repeat=(signal.SIGINT,)) as should_stop:
            state = run_demo(
                args.out, seed=args.seed, profile=QUICK if args.quick else FULL,
                threads=args.threads, on_progress=printer, should_stop=should_stop,
            )  # fmt: skip
    finally:
        printer.close()
    seconds = time.perf_counter() - start
    summary = _summary(state, seconds)
    if args.progress == "json":
        printer.event("result", **summary)
    else:
        _print_summary(state, summary)
    if args.open:
        _open_app(Path(summary["slide"]), Path(summary["inference"]))
    return 0


def _summary(state: Any, seconds: float) -> dict[str, Any]:
    from pathscaat.cli.demo_report import gui_command, key_rows
    from pathscaat.demo import label_counts

    assert state.tiling is not None and state.tiling.manifest is not None
    assert state.evaluation is not None and state.overlays is not None
    return {
        "out": str(state.out_dir), "slide": str(state.slide), "regions": str(state.regions),
        "grid": str(state.tiling.grid_file), "manifest": str(state.tiling.manifest),
        "patches": label_counts(state.tiling.manifest), "patch_set": str(state.patches),
        "models": {o: str(state.checkpoint(o)) for o in state.runs},
        "evaluation": str(state.evaluation.out), "report": str(state.evaluation.report),
        "comparison": key_rows(state.evaluation.metrics), "inference": str(state.overlays.root),
        "gui_command": gui_command(state.slide, state.overlays.root),
        "profile": state.profile.to_dict(), "seconds": round(seconds, 1),
        "step_seconds": state.seconds,
    }  # fmt: skip


def _print_summary(state: Any, summary: dict[str, Any]) -> None:
    from pathscaat.cli.demo_report import comparison_table, mask_area, reading, where_text

    p = state.profile
    metrics = state.evaluation.metrics
    n_images = min(e["images"]["n"] for e in metrics["models"])
    print(_info_text(state.info))
    print(
        f"\n{len(state.tiling.grid)} tissue tiles at 0.5 µm/px; patches per label: "
        f"{json.dumps(summary['patches'])}"
    )
    print(
        f"\nTrained {p.backbone} (random init) on {p.per_class * 3} synthetic patches, "
        f"{p.input_px} px at {p.model_mpp:g} µm/px, {p.epochs} epochs, seed {state.seed}: "
        "ERM and SCAAT, same recipe. Held-out patches, vanilla gradient:\n"
    )
    print(comparison_table(summary["comparison"], mask_area(metrics)))
    print(reading(summary["comparison"], n_images))
    tiles = len(state.overlays.root.joinpath("tiles.csv").read_text().splitlines()) - 1
    print(f"\nSCAAT model run over {tiles} slide tiles: class heatmaps and saliency.\n")
    print(where_text(state))
    print("\nAll of it is PathSCAAT synthetic data, generated for this demo (not real tissue).")
    print(f"Done in {summary['seconds']:.0f} s. Look at it in the app:\n")
    print(f"    {summary['gui_command']}")


def _gui_argv() -> list[str]:
    """The installed ``pathscaat-gui`` next to this Python, else on PATH, else ``-m ui.app``."""
    beside = Path(sys.executable).with_name("pathscaat-gui")
    found = str(beside) if beside.is_file() else shutil.which("pathscaat-gui")
    return [found] if found else [sys.executable, "-m", "ui.app"]


def _open_app(slide: Path, overlays: Path) -> None:
    """Start the desktop app on the result, detached (only on ``--open``)."""
    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if no_display and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        print("--open: no display to show the app on; run the command above on one.")
        return
    argv = [*_gui_argv(), str(slide), "--overlays", str(overlays)]
    subprocess.Popen(argv, start_new_session=True)
    print("Opening the app on the result.")
