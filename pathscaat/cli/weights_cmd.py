"""``pathscaat weights list|add|check``: the starting points a run can fine-tune from.

``list`` shows the bundled ImageNet weights, the ones added here, the timm models already in
the Hugging Face cache, and random weights; ``add NAME PATH`` registers a file or model
folder (after reading it) under the user's data folder; ``check SPEC`` builds the model a
run would build and loads the weights into it: keys fit, head reset, the input size and
normalisation they imply. Nothing is ever downloaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pathscaat.progress import PathscaatError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "weights",
        help="list, add and check starting weights (ImageNet, foundation models, files)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="starting points on this computer (nothing downloaded)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_list)
    add = sub.add_parser("add", help="register a weights file or model folder under a name")
    add.add_argument("name", help="a short name to give `--weights` later")
    add.add_argument("path", type=Path, help="weights file (.safetensors/.pth) or model folder")
    add.set_defaults(func=run_add)
    check = sub.add_parser("check", help="load weights into the model a run would build")
    check.add_argument("weights", help="a name from `weights list`, a file or a model folder")
    check.add_argument("--backbone", default="", help="timm model (default: the weights' own)")
    check.add_argument("--classes", type=int, default=2, help="class count (default: 2)")
    check.set_defaults(func=run_check)


def _row(point: Any) -> str:
    px = f"{point.input_px} px" if point.input_px else "-"
    norm = (
        "mean " + ",".join(f"{v:.3g}" for v in point.mean) + " std "
        + ",".join(f"{v:.3g}" for v in point.std)
        if point.mean and point.std else "-"
    )  # fmt: skip
    arch = point.architecture or "(the run's backbone)"
    source = point.note if not point.pretrained else point.source
    return f"{point.name:<30} {point.kind:<12} {arch:<26} {px:>7}  {norm:<32} {source}"


def run_list(args: argparse.Namespace) -> int:
    from pathscaat.models.starting_weights import list_starting_points

    points = list_starting_points()
    if args.json:
        for point in points:
            print(json.dumps(point.to_dict(), default=str))
        return 0
    print(f"{'name':<30} {'kind':<12} {'architecture':<26} {'input':>7}  {'mean/std':<32} source")
    for point in points:
        print(_row(point))
    return 0


def _guarded(what: str, call: Any) -> Any:
    """``call()``; an error below timm/torch becomes one line naming ``what``."""
    try:
        return call()
    except PathscaatError:
        raise
    except (RuntimeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PathscaatError(f"{what} cannot be used: {first}") from exc


def run_add(args: argparse.Namespace) -> int:
    from pathscaat.models.starting_weights import add_starting_point, resolve_start
    from pathscaat.models.weights_check import check_weights

    def add() -> Any:
        if resolve_start(args.path.resolve()).architecture:  # loads into its own model first
            check_weights("", 2, args.path.resolve())
        return add_starting_point(args.name, args.path)

    point = _guarded(str(args.path), add)
    print(f"added {point.name}: {point.summary()}")
    print(f"use it with: pathscaat train --weights {point.name} ...")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from pathscaat.models.weights_check import check_weights

    report = _guarded(
        args.weights, lambda: check_weights(args.backbone, args.classes, args.weights)
    )
    print(f"ok: {report.message}")
    return 0
