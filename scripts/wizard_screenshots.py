"""Render every page of the training wizard, and the Train page during a real short run.

    python scripts/wizard_screenshots.py [OUT_DIR] [--data PATCH_FOLDER] [--epochs 3]

Pages ``wizard-1-data`` ... ``wizard-7-done``; ``wizard-6-training`` is taken while the
child ``pathscaat train`` runs (curves and the saliency strip from the real run) and
``wizard-6-trained`` after it. A tiny resnet10t at 64 px keeps the run to about a minute
on a CPU. Uses the display when there is one, else Qt's offscreen platform.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PATHSCAAT_SHARED_DATA", REPO.parent / "shared" / "data"))


def wait_for(cond: Callable[[], bool], timeout_s: float) -> bool:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        QApplication.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("out", nargs="?", type=Path, default=Path("screenshots"))
    p.add_argument("--data", type=Path, default=SHARED_DATA / "patches" / "kather-crc-mini")
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args(argv)
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    from PySide6.QtWidgets import QApplication

    from ui.settings import Settings
    from ui.wizard import TrainingWizard

    app = QApplication.instance() or QApplication([])
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pathscaat-wizard-shots-"))
    wiz = TrainingWizard(Settings(work / "settings.ini"), run_on_slide=lambda _p: None)
    wiz.resize(1000, 780)
    wiz.show()

    def shot(name: str) -> None:
        wait_for(lambda: False, 0.3)
        wiz.grab().save(str(args.out / f"{name}.png"))
        print(args.out / f"{name}.png")

    wiz.data_page.set_folders([str(args.data)])
    wait_for(lambda: wiz.data_page.isComplete() or bool(wiz.data_page.problem.text()), 120)
    shot("wizard-1-data")
    wiz.next()
    shot("wizard-2-split")
    wiz.next()
    wiz.model_page.backbone.setCurrentText("resnet10t")
    wiz.model_page.input_px.setValue(64)
    wait_for(wiz.model_page.isComplete, 60)
    shot("wizard-3-model")
    wiz.next()
    shot("wizard-4-objective")
    wiz.next()
    wiz.compute_page.epochs.setValue(args.epochs)
    wiz.compute_page.batch.setValue(16)
    wiz.compute_page.workers.setValue(0)
    wiz.compute_page.estimate()
    wait_for(lambda: wiz.compute_page.estimate_button.isEnabled(), 120)
    shot("wizard-5-compute")
    wiz.next()
    wiz.train_page.out_edit.setText(str(work / "model"))
    shot("wizard-6-train")
    wiz.train_page.start()
    wait_for(lambda: wiz.train_page.strip.path is not None or wiz.outcome is not None, 600)
    wait_for(lambda: len(wiz.train_page.curves.epoch_x) >= 2 or wiz.outcome is not None, 600)
    shot("wizard-6-training")
    wait_for(lambda: wiz.outcome is not None, 600)
    shot("wizard-6-trained")
    if wiz.outcome is not None and wiz.outcome.kind == "done":
        wiz.next()
        shot("wizard-7-done")
        wiz.done_page.evaluate()
        wait_for(lambda: not wiz.done_page.evaluator.is_running(), 600)
        shot("wizard-7-done-report")
    else:
        print("training did not finish:", wiz.outcome)
    wiz.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
