"""``pathscaat train``: fine-tune a timm backbone on a patch folder with ERM/SGT/SCAAT/TRADES.

A thin call into ``pathscaat.training.train``. ``--config FILE`` reads a run config (the
wizard's), and any flag given beside it overrides that setting. ``--estimate`` times a few
real steps and prints how long the run would take, without training. SIGTERM or SIGINT asks
the run to stop at the next batch; it saves ``last`` and the command exits 130 (a second
SIGINT aborts). Several GPUs: ``torchrun --nproc_per_node N -m pathscaat.cli.main train ...``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import add_progress_arg
from pathscaat.progress import PathscaatError

KNOBS = (
    "mask", "eps", "steps", "alpha", "gamma", "tau", "k", "lam", "divergence", "start",
    "random_like", "eps_warmup_epochs",
)  # fmt: skip
#: Flags that map one-to-one to a TrainConfig field of the same name.
FIELDS = (
    "data", "backbone", "epochs", "batch_size", "lr", "weight_decay", "warmup_epochs",
    "img_size", "pretrained_file", "device", "seed", "out", "resume", "workers",
    "val_fraction", "test_fraction", "patience", "mpp", "strip_every", "strip_count",
)  # fmt: skip


def _number(text: str) -> float:
    """A float, or a fraction such as ``4/255`` (eps is in [0,1] pixel units)."""
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError) as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc


def _default_workers() -> int:
    return min(4, max(0, (os.cpu_count() or 1) - 1))


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a timm backbone on a patch folder (ERM, SGT, SCAAT, TRADES)",
        description="Fine-tune a timm backbone on a folder of labelled patches "
        "(one sub-folder per class), or on a run config (--config). Writes best/last "
        "checkpoints, split.json, history.json and per-epoch saliency strips to --out. "
        "Unset flags take the run config's value, else the project's default.",
    )
    p.add_argument("--config", type=Path, help="run config JSON (the wizard writes one)")
    p.add_argument("--data", type=Path, help="patch folder (class per sub-folder)")
    p.add_argument("--estimate", action="store_true", help="time a few steps, print, exit")
    p.add_argument("--backbone", help="any timm model name (default resnet18)")
    p.add_argument("--objective", choices=("erm", "sgt", "scaat", "trades"))
    p.add_argument("--epochs", type=int, help="default 10")
    p.add_argument("--batch-size", type=int, help="default 32")
    p.add_argument("--lr", type=float, help="default: 3e-3 from random weights, 1e-4 else")
    p.add_argument("--weight-decay", type=float, help="default 0.05")
    p.add_argument("--warmup-epochs", type=float, help="lr warm-up (default 1)")
    p.add_argument("--img-size", type=int, help="input px (default: backbone's)")
    p.add_argument("--pretrained-file", type=Path, help=".safetensors or .pth")
    p.add_argument("--device", help="auto (default), cpu, mps, cuda or cuda:N")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--out", type=Path, help="run folder (default runs/latest)")
    p.add_argument("--resume", type=Path, help="checkpoint to resume (e.g. last)")
    p.add_argument("--workers", type=int, help=f"loader processes (default {_default_workers()})")
    p.add_argument("--val-fraction", type=float, help="default 0.15")
    p.add_argument("--test-fraction", type=float, help="default 0.15")
    p.add_argument("--patience", type=int, help="early stopping (epochs)")
    p.add_argument("--mpp", type=float, help="µm/px of the patches, if known")
    p.add_argument("--strip-every", type=int, help="saliency strip every N epochs (0 = none)")
    p.add_argument("--strip-count", type=int, help="patches in the strip (default 8)")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--no-augment", action="store_true", help="no flips/rotations/colour jitter")
    _add_knobs(p)
    add_progress_arg(p)
    p.set_defaults(func=run)


def _add_knobs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "objective knobs (unset = the objective's default; the defaults are this project's, "
        "not the SCAAT paper's)"
    )
    g.add_argument("--mask", choices=("soft", "adaptive", "fraction", "random", "none"))
    g.add_argument("--eps", type=_number, help="attack budget in [0,1] units, e.g. 4/255")
    g.add_argument("--steps", type=int, help="signed-gradient ascent steps")
    g.add_argument("--alpha", type=_number, help="step size (default 1.25*eps)")
    g.add_argument("--gamma", type=float, help="soft mask exponent")
    g.add_argument("--tau", type=float, help="adaptive mask: saliency mass fraction")
    g.add_argument("--k", type=float, help="fraction mask: pixel fraction")
    g.add_argument("--lam", type=float, help="weight of the consistency term")
    g.add_argument("--divergence", choices=("kl", "js"))
    g.add_argument("--start", choices=("uniform", "fill"), help="attack start")
    g.add_argument(
        "--random-like",
        choices=("soft", "adaptive", "fraction"),
        help="mask=random: the saliency mask whose area the control copies",
    )
    g.add_argument("--eps-warmup-epochs", type=float, help="eps ramps from 0 over these")


def _scaat(base: Any, args: argparse.Namespace) -> Any:
    """The objective: ``--objective`` restarts from its preset; knobs override either."""
    from pathscaat.training import ScaatConfig

    knobs = {k: getattr(args, k) for k in KNOBS if getattr(args, k) is not None}
    if args.objective is not None:
        return ScaatConfig.for_objective(args.objective, **knobs)
    return dataclasses.replace(base, **knobs) if knobs else base


def build_config(args: argparse.Namespace) -> Any:
    """The run: the ``--config`` file (or the defaults) with every given flag on top."""
    from pathscaat.training import ScaatConfig, TrainConfig
    from pathscaat.training.run_config import load_run_config

    if args.config is not None:
        config = load_run_config(args.config)
    elif args.data is not None:
        config = TrainConfig(data=args.data, workers=_default_workers(), scaat=ScaatConfig())
    else:
        raise PathscaatError("give --data PATCH_FOLDER or --config RUN_CONFIG.json")
    changes = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    if args.data is not None and args.config is not None:
        changes["sources"] = []  # --data replaces the config's sources
    if args.no_amp:
        changes["amp"] = False
    if args.no_augment:
        changes["augment"] = False
    changes["scaat"] = _scaat(config.scaat, args)
    return dataclasses.replace(config, **changes)


def run(args: argparse.Namespace) -> int:
    config = build_config(args)
    if args.estimate:
        return _estimate(config, args.progress)
    from pathscaat.training import train

    with progress_job(args.progress, abort_on_repeat=(signal.SIGINT,)) as (printer, should_stop):
        result = train(config, on_progress=printer, should_stop=should_stop)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return 0
    if args.progress == "json":
        printer.event("result", **result.to_dict())
        return 0
    m = result.metrics
    print(f"trained {config.backbone} ({config.scaat.objective}) for {result.epochs_run} epochs")
    if "accuracy" in m:
        print(
            f"best epoch {result.best_epoch}: validation accuracy {m['accuracy']:.3f}, "
            f"balanced accuracy {m['balanced_accuracy']:.3f}, loss {m['loss']:.4f}"
        )
    print(f"checkpoints: {result.best}.safetensors (best), {result.last}.safetensors (last)")
    return 0


def _estimate(config: Any, mode: str) -> int:
    from pathscaat.training.estimate import estimate_run

    with progress_job(mode) as (printer, should_stop):
        est = estimate_run(config, on_progress=printer, should_stop=should_stop)
    if mode == "json":
        printer.event("estimate", **est.to_dict())
        return 0
    print(
        f"{est.seconds_per_step:.3f} s/step at batch {est.batch_size} on {est.device}, "
        f"{est.steps_per_epoch} steps/epoch: about {est.total_seconds / 60:.1f} min for "
        f"{config.epochs} epochs"
    )
    return 0
