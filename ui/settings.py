"""User settings: ONE defaults table, typed reads, and a file that can never break start-up.

Every key the app stores is listed in :data:`DEFAULTS` with its default value; the default's
type is the key's type. A read that finds a missing, damaged or wrong-typed value returns
the default and records a problem (the window shows it in the status bar and the log), so
a hand-edited or half-written settings file costs at most the user's preferences.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULTS: dict[str, Any] = {
    "window/geometry": QByteArray(),
    "window/state": QByteArray(),
    "recent/files": [],
    "recent/max": 10,
    "dialogs/last_dir": "",
    "dialogs/export_dir": "",
    "jobs/checkpoint": "",
    "jobs/device": "auto",
    "jobs/saliency": "vanilla",
    "jobs/output_root": "",
    "jobs/min_tissue": 0.5,
    "jobs/cancel_grace_ms": 5000,
    "errors/show_dialogs": True,
    "wizard/last": "",
    "wizard/models": [],
    "wizard/models_dir": "",
    "project/last": "",
    "regions/class_maps": "",  # JSON: checkpoint -> {model class: project class}
}
"""Every setting and its default; the default's type is the only type a read returns."""

ORG_NAME = "PathSCAAT"
APP_NAME = "pathscaat-gui"


def _coerce(raw: Any, default: T) -> T:
    """Convert what QSettings returned to the type of ``default``; ValueError if impossible."""
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw  # type: ignore[return-value]
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes"):
            return True  # type: ignore[return-value]
        if text in ("false", "0", "no"):
            return False  # type: ignore[return-value]
        raise ValueError(f"not a boolean: {raw!r}")
    if isinstance(default, int):
        return int(str(raw).strip())  # type: ignore[return-value]
    if isinstance(default, float):
        return float(str(raw).strip())  # type: ignore[return-value]
    if isinstance(default, str):
        if isinstance(raw, (list, tuple, dict, QByteArray, bytes)):
            raise ValueError(f"not a text value: {type(raw).__name__}")
        return str(raw)  # type: ignore[return-value]
    if isinstance(default, list):
        if isinstance(raw, str):  # INI stores a one-item list as a plain string
            return [raw]  # type: ignore[return-value]
        if isinstance(raw, (list, tuple)) and all(isinstance(x, str) for x in raw):
            return list(raw)  # type: ignore[return-value]
        raise ValueError(f"not a list of text: {raw!r}")
    if isinstance(default, QByteArray):
        if isinstance(raw, QByteArray):
            return raw  # type: ignore[return-value]
        if isinstance(raw, bytes):
            return QByteArray(raw)  # type: ignore[return-value]
        raise ValueError(f"not binary data: {type(raw).__name__}")
    raise TypeError(f"no coercion for default of type {type(default).__name__}")


class Settings:
    """Typed access to a QSettings store, keyed only by names in :data:`DEFAULTS`.

    ``problems`` collects one line per value or file that was reset; ``on_problem`` (if
    given) is called with each line as it happens.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.problems: list[str] = []
        self._on_problem = on_problem
        if path is None:
            self._qs = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG_NAME, APP_NAME
            )
        else:
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        self._check_file()

    @property
    def path(self) -> Path:
        return Path(self._qs.fileName())

    def _problem(self, text: str) -> None:
        log.warning("settings: %s", text)
        self.problems.append(text)
        if self._on_problem is not None:
            self._on_problem(text)

    def _check_file(self) -> None:
        """Move an unreadable settings file aside and start from defaults."""
        status = self._qs.status()
        if status == QSettings.Status.NoError:
            return
        path = self.path
        backup = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.replace(backup)
            where = f"the old file was kept as {backup}"
        except OSError as exc:
            where = f"the old file could not be moved aside ({exc})"
        self._problem(
            f"the settings file {path} could not be read ({status.name}); "
            f"defaults are used and {where}."
        )
        self._qs = QSettings(str(path), QSettings.Format.IniFormat)

    def get(self, key: str) -> Any:
        """The stored value of ``key`` converted to its default's type, else the default."""
        default = DEFAULTS[key]
        try:
            raw = self._qs.value(key)
        except Exception as exc:  # a value Qt itself cannot decode
            self._problem(f"{key} could not be decoded ({exc}); using the default.")
            self._qs.remove(key)
            return default
        if raw is None:
            return list(default) if isinstance(default, list) else default
        try:
            return _coerce(raw, default)
        except (ValueError, TypeError) as exc:
            self._problem(f"{key} had a wrong value ({exc}); reset to the default.")
            self._qs.remove(key)
            return list(default) if isinstance(default, list) else default

    def set(self, key: str, value: Any) -> None:
        """Store ``value``, which must already have the default's type."""
        default = DEFAULTS[key]
        if not isinstance(value, type(default)):
            raise TypeError(f"{key} takes {type(default).__name__}, got {type(value).__name__}")
        self._qs.setValue(key, value)

    def sync(self) -> None:
        self._qs.sync()

    # -- recent files -----------------------------------------------------------
    def recent_files(self) -> list[str]:
        return [p for p in self.get("recent/files") if p][: max(1, self.get("recent/max"))]

    def add_recent(self, path: str | Path) -> list[str]:
        """Put ``path`` first in the recent list (no duplicates, bounded length)."""
        text = str(Path(path).resolve())
        files = [text] + [p for p in self.recent_files() if p != text]
        files = files[: max(1, self.get("recent/max"))]
        self.set("recent/files", files)
        return files

    def remove_recent(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self.set("recent/files", [p for p in self.recent_files() if p != text])

    def clear_recent(self) -> None:
        self.set("recent/files", [])
