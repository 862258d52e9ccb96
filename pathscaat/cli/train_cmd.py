"""``pathscaat train``: fine-tune a timm backbone on a patch folder with ERM/SGT/SCAAT/TRADES.

A thin call into ``pathscaat.training.train``. SIGTERM or SIGINT asks the run to stop at
the next batch; it saves ``last`` and the command exits 130 (a second SIGINT aborts).
Several GPUs: ``torchrun --nproc_per_node N -m pathscaat.cli.main train ...`` (DDP).
"""

from __future__ import annotations

import argparse
import os
import signal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg
from pathscaat.progress import ProgressRecord
from pathscaat.training.config import (
    ATTACK_LOSSES,
    DIVERGENCES,
    GUIDANCE_FROM,
    MASKS,
    OBJECTIVES,
    PRETRAINED_LR,
    RANDOM_START_LR,
    SALIENCY_MASKS,
    STARTS,
)

KNOBS = ("mask", "eps", "steps", "alpha", "gamma", "tau", "k", "lam", "divergence", "start")


def _number(text: str) -> float:
    """A float, or a fraction such as ``4/255`` (eps is in [0,1] pixel units)."""
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError) as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends ``(default: X)`` unless the help already says it or there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "(default" in text or action.default is None or action.required:
            return text
        return super()._get_help_string(action)


def _default_workers() -> int:
    return min(4, max(0, (os.cpu_count() or 1) - 1))


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a timm backbone on a patch folder (ERM, SGT, SCAAT, TRADES)",
        description="Fine-tune a timm backbone on a folder of labelled patches "
        "(one sub-folder per class). Writes best/last checkpoints, split.json and "
        "history.json to --out. The split is by slide where the folder says which slide "
        "each patch came from, with every class in every split where its slides allow.",
        formatter_class=_DefaultsFormatter,
    )
    p.add_argument("--data", type=Path, required=True, help="patch folder (class per sub-folder)")
    p.add_argument("--backbone", default="resnet18", help="any timm model name")
    p.add_argument("--objective", choices=OBJECTIVES, default="scaat", help="training objective")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training split")
    p.add_argument("--batch-size", type=int, default=32, help="images per step (all GPUs)")
    p.add_argument(
        "--lr", type=float, default=None,
        help=f"peak learning rate (default: {RANDOM_START_LR:g} from random weights, "
        f"{PRETRAINED_LR:g} with --pretrained-file, the run's own with --resume)",
    )  # fmt: skip
    p.add_argument("--weight-decay", type=float, default=0.05, help="AdamW weight decay")
    p.add_argument(
        "--img-size", type=int, default=None,
        help="model input px; patches are resized to it (default: the backbone's)",
    )  # fmt: skip
    p.add_argument(
        "--pretrained-file", type=Path, default=None,
        help="starting weights: a .safetensors/.pth state dict in timm's layout, or a "
        "PathSCAAT checkpoint (e.g. runs/erm/best.safetensors); module./model./backbone. key "
        "prefixes are removed, and the head is reset when the class count differs "
        "(default: random weights)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="auto, cpu, mps, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, init and order")
    p.add_argument("--out", type=Path, default=Path("runs/latest"), help="run folder")
    p.add_argument(
        "--resume", type=Path, default=None,
        help="checkpoint to resume, e.g. runs/latest/last (default: a new run)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, default=_default_workers(),
        help="loader processes (0: load in the main process)",
    )  # fmt: skip
    p.add_argument("--val-fraction", type=float, default=0.15, help="share of images to validate")
    p.add_argument("--test-fraction", type=float, default=0.15, help="share held out to test")
    p.add_argument("--patience", type=int, default=None, help="early stopping after N epochs "
                   "without a better validation score (default: off)")  # fmt: skip
    p.add_argument(
        "--mpp", type=float, default=None,
        help="µm/px of the patches; the checkpoint then records the µm/px the model sees "
        "(mpp x patch px / --img-size), the scale `pathscaat infer` reads slides at "
        "(default: unknown, infer reads level 0)",
    )  # fmt: skip
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    _add_knobs(p)
    add_progress_arg(p)
    p.set_defaults(func=run)


def _knob_default(name: str) -> str:
    """``default: X`` for the scaat objective, then where another objective differs."""
    from pathscaat.training.config import ScaatConfig

    def show(value: Any) -> str:
        if name == "alpha" and value is None:
            return "1.25*eps"
        if name == "eps" and value:
            return f"{Fraction(value).limit_denominator(255)} = {value:.4g}"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    values = {o: getattr(ScaatConfig.for_objective(o), name) for o in OBJECTIVES}
    others = [f"{o}: {show(v)}" for o, v in values.items() if v != values["scaat"]]
    return f"(default: {show(values['scaat'])}" + (f"; {', '.join(others)})" if others else ")")


def _add_knobs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "objective knobs (unset = the objective's default, shown for scaat and where another "
        "objective differs; the defaults are this project's, not the SCAAT paper's)"
    )
    knobs: list[tuple[str, str, dict[str, Any]]] = [
        ("mask", "where the adversary may push", {"choices": MASKS}),
        ("eps", "attack budget in [0,1] units, e.g. 4/255", {"type": _number}),
        ("steps", "signed-gradient ascent steps", {"type": int}),
        ("alpha", "attack step size", {"type": _number}),
        ("gamma", "soft mask exponent", {"type": float}),
        ("tau", "adaptive mask: saliency mass fraction", {"type": float}),
        ("k", "fraction mask: pixel fraction", {"type": float}),
        ("lam", "weight of the consistency term", {"type": float}),
        ("divergence", "consistency divergence", {"choices": DIVERGENCES}),
        ("start", "attack start", {"choices": STARTS}),
        ("random_like", "mask=random: the budget map the control shuffles over pixels",
         {"choices": SALIENCY_MASKS}),
        ("attack_loss", "what the adversary ascends", {"choices": ATTACK_LOSSES}),
        ("guidance_from", "the image the guidance saliency is taken on",
         {"choices": GUIDANCE_FROM}),
        ("eps_warmup_epochs", "eps ramps from 0 over these epochs", {"type": float}),
    ]  # fmt: skip
    for name, text, kwargs in knobs:
        flag = "--" + name.replace("_", "-")
        # no default=, so an unset knob stays None and the objective's preset applies
        g.add_argument(flag, help=f"{text} {_knob_default(name)}".replace("%", "%%"), **kwargs)
    g.add_argument(
        "--invert", action="store_true", default=None,
        help="control: the same budget values in reversed saliency order",
    )  # fmt: skip


def build_config(args: argparse.Namespace) -> Any:
    from pathscaat.training import ScaatConfig, TrainConfig

    knobs = {k: getattr(args, k) for k in KNOBS if getattr(args, k) is not None}
    for name in ("random_like", "eps_warmup_epochs", "invert", "attack_loss", "guidance_from"):
        if getattr(args, name) is not None:
            knobs[name] = getattr(args, name)
    return TrainConfig(
        data=args.data,
        backbone=args.backbone,
        scaat=ScaatConfig.for_objective(args.objective, **knobs),
        out=args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        img_size=args.img_size,
        pretrained_file=args.pretrained_file,
        device=args.device,
        seed=args.seed,
        resume=args.resume,
        workers=args.workers,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        patience=args.patience,
        amp=not args.no_amp,
        mpp=args.mpp,
    )


def run(args: argparse.Namespace) -> int:
    from pathscaat.training import train

    config = build_config(args)
    with progress_job(args.progress, abort_on_repeat=(signal.SIGINT,)) as (printer, should_stop):
        on_progress = printer if args.progress == "json" else _SetupLines(printer)
        result = train(config, on_progress=on_progress, should_stop=should_stop)
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


class _SetupLines:
    """Text modes: the chosen lr and the split's class counts as lines (the core logs its
    warnings on stderr); every other record goes to the bars."""

    def __init__(self, printer: ProgressPrinter) -> None:
        self.printer = printer

    def __call__(self, rec: ProgressRecord) -> None:
        if rec.stage == "setup":
            given = rec.message.endswith("(given)")
            print(rec.message if given else rec.message[:-1] + "; --lr sets it)", flush=True)
        elif rec.stage == "split":
            for line in split_table(rec.message, rec.extra.get("class_counts", {})):
                print(line, flush=True)
        else:
            self.printer(rec)


def split_table(title: str, counts: dict[str, dict[str, int]]) -> list[str]:
    """``title`` then one row per class: its images in train, val and test."""
    subsets = list(counts)
    classes = list(next(iter(counts.values()), {}))
    width = max([len("class"), *(len(c) for c in classes)])
    lines = [title, f"  {'class':<{width}}" + "".join(f"{s:>7}" for s in subsets)]
    for name in classes:
        lines.append(f"  {name:<{width}}" + "".join(f"{counts[s][name]:>7}" for s in subsets))
    return lines
