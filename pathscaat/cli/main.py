"""Entry point of the ``pathscaat`` command.

Each sub-command lives in its own module of this package exposing
``register(subparsers)``, which adds a parser whose ``func`` default takes the parsed
namespace and returns an exit code. Exit codes: 0 success, 1 user error or failure
(one clear message, no traceback), 2 bad command-line usage, 130 cancelled, 141 output
pipe closed early (``pathscaat info --json SLIDE | head``: quiet, as other Unix tools).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import multiprocessing
import os
import sys
from collections.abc import Sequence

from pathscaat import __version__
from pathscaat.progress import JobCancelled, PathscaatError
from pathscaat.slides.errors import SlideError

COMMAND_MODULES = (
    "info",
    "tiles",
    "demo",
    "train",
    "weights",
    "evaluate",
    "infer",
    "infer_cohort",
    "project",
    "annotations",
    "regions",
    "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pathscaat",
        description="PathSCAAT: whole-slide images, SCAAT training and sparse saliency.",
    )
    parser.add_argument("--version", action="version", version=f"pathscaat {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"pathscaat.cli.{name}_cmd")
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != f"pathscaat.cli.{name}_cmd":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a frozen build's worker processes start here
    if argv is None and multiprocessing.get_start_method(allow_none=True) is None:
        # spawn, as in a frozen build, where fork is unsafe (the program, not in-process calls)
        multiprocessing.set_start_method("spawn")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so a closed pipe is met inside the handlers below
        return code
    except JobCancelled as exc:
        print(f"pathscaat: cancelled: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("pathscaat: interrupted; partial results were kept where possible.", file=sys.stderr)
        return 130
    except (PathscaatError, SlideError) as exc:
        print(f"pathscaat: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:
        print(f"pathscaat: error: {os_error_line(exc)}", file=sys.stderr)
        return 1


def os_error_line(exc: OSError) -> str:
    """An operating-system failure the command did not foresee, as what and what to do."""
    what = exc.strerror or str(exc)
    if exc.filename is None:
        return f"{what}; check the paths given and that there is free disk space"
    return f"{exc.filename}: {what.lower()}; check the path and its permissions"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
