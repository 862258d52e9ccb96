"""Before a run: a writable output folder, the sources scanned, the folder to train from.

Every run scans its data once (``data`` or ``sources``): a corrupt image among good ones is
skipped and counted here instead of stopping the run in some later epoch, and a set that
cannot train (empty, one class, no images) stops with the scan's reason. The run config is
saved beside the checkpoints, so an unfinished run can be resumed from it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from pathscaat.data.source_view import training_root
from pathscaat.data.sources import scan_sources
from pathscaat.progress import OnProgress, PathscaatError, ProgressRecord, ShouldStop
from pathscaat.training.config import TrainConfig
from pathscaat.training.run_config import save_run_config

log = logging.getLogger(__name__)
RUN_CONFIG = "run_config.json"


def check_writable(config: TrainConfig) -> None:
    """The output folder exists (made if needed) and takes files, or one clear error."""
    probe = config.out / f".write-test.{os.getpid()}"
    try:
        config.out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PathscaatError(
            f"cannot write to the output folder {config.out}: {exc.strerror or exc}; choose "
            "a folder you can write to"
        ) from exc


def resolve_data(
    config: TrainConfig, on_progress: OnProgress, should_stop: ShouldStop, is_main: bool
) -> TrainConfig:
    """``config`` training on the scanned sources' folder (``data`` set to it)."""
    check_writable(config)
    if is_main:
        save_run_config(config, config.out / RUN_CONFIG)
    scan = scan_sources(config.data_sources(), on_progress, should_stop)
    for warning in scan.warnings:
        log.warning(warning)
    if scan.unreadable:
        first, why = scan.unreadable[0]
        on_progress(
            ProgressRecord(
                "scan", 1, 1, f"{len(scan.unreadable)} unreadable images skipped (first: "
                f"{first}: {why})",
                {"unreadable": [[str(p), w] for p, w in scan.unreadable]},
            )
        )  # fmt: skip
    root = training_root(scan, config.out / "dataset")
    mpp = config.mpp
    if mpp is None and config.sources:
        mpp = scan.patch_mpp
    return replace(config, data=root, mpp=mpp)
