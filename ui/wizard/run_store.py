"""A wizard run's folder on disk: its run config, whether it finished, its checkpoints.

Read with plain JSON (no torch), so the Train page can offer "Resume" for a run that was
cancelled or killed, and the Models panel can list runs quickly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_CONFIG = "run_config.json"
BASELINE_SUFFIX = "-erm-baseline"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class RunFolder:
    """``out`` of one training run."""

    out: Path

    @property
    def config_path(self) -> Path:
        return self.out / RUN_CONFIG

    @property
    def best(self) -> Path:
        return self.out / "best.json"

    @property
    def last(self) -> Path:
        return self.out / "last.json"

    def epochs_wanted(self) -> int | None:
        data = _read_json(self.config_path)
        return int(data["epochs"]) if isinstance(data, dict) and "epochs" in data else None

    def epochs_done(self) -> int:
        history = _read_json(self.out / "history.json")
        return len(history) if isinstance(history, list) else 0

    def is_unfinished(self) -> bool:
        """A checkpoint to resume from, and fewer epochs done than the config asks."""
        wanted = self.epochs_wanted()
        has_last = self.last.is_file() and self.out.joinpath("last.safetensors").is_file()
        return has_last and wanted is not None and self.epochs_done() < wanted

    def history(self) -> list[dict[str, Any]]:
        data = _read_json(self.out / "history.json")
        return [h for h in data if isinstance(h, dict)] if isinstance(data, list) else []


def baseline_folder(out: Path) -> Path:
    """Where the optional ERM baseline of the run in ``out`` trains."""
    return out.with_name(out.name + BASELINE_SUFFIX)


def checkpoint_meta(checkpoint: Path) -> dict[str, Any]:
    """The JSON sidecar of a checkpoint ({} when unreadable)."""
    data = _read_json(checkpoint.with_suffix(".json"))
    return data if isinstance(data, dict) else {}


def check_writable(folder: Path) -> str:
    """Why the run cannot write into ``folder`` ('' when it can); creates it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".pathscaat-write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return (
            f"Cannot write into {folder} ({exc.strerror or exc}). Choose another folder "
            "for the model, one in your own documents or home folder."
        )
    return ""
