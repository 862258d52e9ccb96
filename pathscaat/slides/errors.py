"""Typed slide errors: each message names the file, what happened and what to do next."""

from __future__ import annotations

from pathlib import Path


class SlideError(Exception):
    """Base of every error raised while opening or reading a slide."""

    def __init__(self, path: str | Path, what: str, todo: str) -> None:
        self.path = Path(path)
        self.what = what
        self.todo = todo
        super().__init__(f"{self.path}: {what}. {todo}")


class SlideNotFoundError(SlideError):
    """The path does not exist or is not a file."""


class SlidePermissionError(SlideError):
    """The file exists but cannot be read by this user."""


class UnsupportedSlideError(SlideError):
    """No backend recognises the file format."""


class CorruptSlideError(SlideError):
    """The format is recognised but the file is damaged (truncated, empty, bad tiles)."""


class SlideClosedError(SlideError):
    """A read was attempted on a closed slide."""


class MissingMppError(SlideError):
    """A physical-size operation needs µm/px but the slide has none and no override was set."""


def unexpected(path: str | Path, exc: BaseException, doing: str) -> CorruptSlideError:
    """A reader quirk (any exception no backend maps) as the damaged-file error it means.

    Raise it ``from exc`` so the original stays available as ``__cause__`` for debugging.
    """
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return CorruptSlideError(
        path,
        f"{doing} failed unexpectedly ({detail})",
        "The file is probably damaged or truncated: copy it again from its source; if a "
        "fresh copy fails the same way, report it with this message.",
    )
