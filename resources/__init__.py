"""Icons, stylesheet and desktop entry shipped with the app (packed as package data).

The installed app finds them through :func:`resource_path`, never through a path relative
to the source tree, so a wheel, an editable install and a frozen build behave the same.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

ICON_NAMES = (
    "app",
    "open",
    "export",
    "recent",
    "close",
    "zoom-in",
    "zoom-out",
    "fit",
    "run-model",
    "cancel",
    "layers",
    "overlays",
    "info",
    "overview",
    "tool-move",
    "tool-rectangle",
    "tool-ellipse",
    "tool-polygon",
    "tool-brush",
    "tool-points",
    "delete",
    "undo",
    "redo",
    "classes",
    "annotations",
)
"""Every icon in ``icons/`` (without ``.svg``); the test checks each is found."""


def resource_path(name: str) -> Path:
    """Absolute path of ``name`` (``"icons/open.svg"``, ``"style.qss"``...) in this package.

    Raises FileNotFoundError naming the resource when it is missing, which means a broken
    install rather than a user error.
    """
    path = Path(str(resources.files(__name__).joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(
            f"PathSCAAT resource {name!r} is missing ({path}); reinstall PathSCAAT."
        )
    return path
