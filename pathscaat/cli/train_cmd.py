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
from pathscaat.cli.reporting import ProgressPrinter, add_progress_arg
from pathscaat.progress import PathscaatError, ProgressRecord
from pathscaat.starting_names import DEFAULT_BACKBONE, DEFAULT_WEIGHTS
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

KNOBS = (
    "mask", "eps", "steps", "alpha", "gamma", "tau", "k", "lam", "divergence", "start",
    "random_like", "eps_warmup_epochs", "invert", "attack_loss", "guidance_from",
    "guidance_cell", "reg_start_epochs",
)  # fmt: skip
#: Flags that map one-to-one to a TrainConfig field of the same name.
FIELDS = (
    "data", "backbone", "epochs", "batch_size", "lr", "weight_decay", "warmup_epochs",
    "img_size", "weights", "device", "seed", "out", "resume", "workers",
    "val_fraction", "test_fraction", "patience", "mpp", "strip_every", "strip_count",
    "head_init", "head_lr_scale", "layer_decay", "probe_epochs", "bn", "select",
    "min_crop",
)  # fmt: skip


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
        "(one sub-folder per class), or on a run config (--config; the wizard writes one, "
        "and flags given beside it override its settings). Writes best/last checkpoints, "
        "split.json, history.json, run_config.json and per-epoch saliency strips to --out. "
        "The split is by slide where the folder says which slide each patch came from, "
        "with every class in every split where its slides allow.",
        formatter_class=_DefaultsFormatter,
    )
    p.add_argument("--config", type=Path, help="run config JSON (default: none, give --data)")
    p.add_argument("--data", type=Path, help="patch folder (class per sub-folder)")
    p.add_argument("--estimate", action="store_true", help="time a few real steps, print the "
                   "run's expected time and exit (trains nothing)")  # fmt: skip
    p.add_argument("--backbone", help="any timm model name (default: the weights' own; "
                   f"{DEFAULT_BACKBONE} when neither is given)")  # fmt: skip
    p.add_argument("--objective", choices=OBJECTIVES, help="training objective (default: scaat)")
    p.add_argument("--epochs", type=int, help="passes over the training split (default: 10)")
    p.add_argument("--batch-size", type=int, help="images per step, all GPUs (default: 32)")
    p.add_argument(
        "--lr", type=float,
        help=f"peak learning rate (default: {RANDOM_START_LR:g} from random weights, "
        f"{PRETRAINED_LR:g} from pretrained weights, the run's own with --resume)",
    )  # fmt: skip
    p.add_argument("--weight-decay", type=float, help="AdamW weight decay (default: 0.05)")
    p.add_argument("--warmup-epochs", type=float, help="linear lr warm-up (default: 1)")
    p.add_argument(
        "--img-size", type=int,
        help="model input px; patches are resized to it (default: the backbone's)",
    )  # fmt: skip
    p.add_argument(
        "--weights", "--pretrained-file", dest="weights",
        help=f"starting weights: a name from `pathscaat weights list` (e.g. {DEFAULT_WEIGHTS}), "
        "random (a research setting), a model folder (config.json + weights, e.g. a "
        "Hugging Face download), a .safetensors/.pth state dict (timm, torchvision ResNet or "
        "EfficientNet-PyTorch layout) or a PathSCAAT checkpoint; the head is reset when the "
        f"class count differs (default: {DEFAULT_WEIGHTS} with --backbone {DEFAULT_BACKBONE}; "
        "random for a backbone without bundled weights)",
    )  # fmt: skip
    p.add_argument("--device", help="auto, cpu, mps, cuda or cuda:N (default: auto)")
    p.add_argument("--seed", type=int, help="seed of the split, init and order (default: 0)")
    p.add_argument("--out", type=Path, help="run folder (default: runs/latest)")
    p.add_argument(
        "--resume", type=Path,
        help="checkpoint to resume, e.g. runs/latest/last (default: a new run)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int,
        help=f"loader processes, 0: load in the main process (default: {_default_workers()})",
    )  # fmt: skip
    p.add_argument("--val-fraction", type=float, help="share to validate (default: 0.15)")
    p.add_argument("--test-fraction", type=float, help="share held out to test (default: 0.15)")
    p.add_argument(
        "--slide-id", metavar="RULE",
        help="how a tile's slide id is read, so a slide's tiles stay in one split: auto (a "
        "manifest.csv slide column, or a Kather CRC-Prim-HE-NN token), tcga (TCGA-XX-XXXX), "
        "case (Case-N), prefix[:SEP] (the name up to the first SEP, default _), "
        "regex:PATTERN (its group 1, else the match) or column:NAME (a manifest.csv column) "
        "(default: auto)",
    )  # fmt: skip
    p.add_argument("--patience", type=int, help="early stopping after N epochs "
                   "without a better validation score (default: off)")  # fmt: skip
    p.add_argument(
        "--mpp", type=float,
        help="µm/px of the patches; the checkpoint then records the µm/px the model sees "
        "(mpp x patch px / --img-size), the scale `pathscaat infer` reads slides at "
        "(default: unknown, infer reads level 0)",
    )  # fmt: skip
    p.add_argument("--strip-every", type=int, help="saliency strip of fixed validation "
                   "patches every N epochs, 0: none (default: 1)")  # fmt: skip
    p.add_argument("--strip-count", type=int, help="patches in the strip (default: 8)")
    _add_recipe(p)
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--no-augment", action="store_true", help="no flips, crops, colour jitter")
    p.add_argument("--min-crop", type=float, help="smallest random crop as a fraction of the "
                   "patch side; a crop is resized to the input, so it zooms (1: the scale "
                   "never changes) (default: 0.7)")  # fmt: skip
    _add_knobs(p)
    add_progress_arg(p)
    p.set_defaults(func=run)


def _add_recipe(p: argparse.ArgumentParser) -> None:
    from pathscaat.training.config import SELECTIONS
    from pathscaat.training.recipe import BN_MODES, HEAD_INITS

    g = p.add_argument_group("fine-tuning recipe (docs/training.md says how it was chosen)")
    g.add_argument("--head-init", choices=HEAD_INITS, help="the new classifier head: zero, "
                   "small (std 0.01) or timm's; auto = zero with pretrained weights (default: "
                   "auto)")  # fmt: skip
    g.add_argument("--head-lr-scale", type=float,
                   help="the head's lr as a multiple of the backbone's (default: 1)")  # fmt: skip
    g.add_argument("--layer-decay", type=float, help="layer-wise lr decay of the backbone, "
                   "e.g. 0.8 (default: off)")  # fmt: skip
    g.add_argument("--probe-epochs", type=int, help="epochs that train the head alone, the "
                   "backbone frozen (default: 0)")  # fmt: skip
    g.add_argument("--bn", choices=BN_MODES, help="BatchNorm statistics: train (batch "
                   "statistics) or frozen (the pretrained ones) (default: train)")  # fmt: skip
    g.add_argument("--select", choices=SELECTIONS, help="which weights become best: the "
                   "epoch with the best validation balanced accuracy or loss, the last "
                   "epoch, or the average of the second half's weights "
                   "(default: loss)")  # fmt: skip
    g.add_argument(
        "--no-channels-last",
        action="store_true",
        default=None,
        help="keep the NCHW memory layout (default: channels-last, faster on CPU)",
    )


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
        ("guidance_cell", "average the guidance saliency over cells of this many px first "
         "(1 = the raw map; 4 removes a strided stem's checkerboard)", {"type": int}),
        ("eps_warmup_epochs", "eps ramps from 0 over these epochs", {"type": float}),
        ("reg_start_epochs", "plain cross-entropy before this epoch (a new head settles "
         "first), then the adversary and consistency term ramp in", {"type": float}),
    ]  # fmt: skip
    for name, text, kwargs in knobs:
        flag = "--" + name.replace("_", "-")
        # no default=, so an unset knob stays None and the objective's preset applies
        g.add_argument(flag, help=f"{text} {_knob_default(name)}".replace("%", "%%"), **kwargs)
    g.add_argument(
        "--invert", action="store_true", default=None,
        help="control: the same budget values in reversed saliency order (default: off)",
    )  # fmt: skip


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
    if args.slide_id is not None:
        from pathscaat.data.slide_id import SlideIdRule

        changes["slide_id"] = SlideIdRule.parse(args.slide_id).text()
    if args.no_amp:
        changes["amp"] = False
    if args.no_augment:
        changes["augment"] = False
    if args.no_channels_last:
        changes["channels_last"] = False
    changes["scaat"] = _scaat(config.scaat, args)
    changes.update(_start(args, fresh=args.config is None))
    return dataclasses.replace(config, **changes)


def _start(args: argparse.Namespace, fresh: bool) -> dict[str, Any]:
    """Backbone and weights when one or neither is given: the weights' own architecture, the
    bundled ImageNet weights of the backbone (Lite0 for a new run naming neither), or random
    weights for a backbone that has none bundled."""
    from pathscaat.models.starting_weights import imagenet_points, resolve_start

    if args.weights is not None and args.backbone is None:
        arch = resolve_start(args.weights).architecture
        return {"backbone": arch} if arch else {}
    if args.weights is None and fresh:
        backbone = args.backbone or DEFAULT_BACKBONE
        bundled = [p.name for p in imagenet_points() if p.architecture == backbone]
        return {"backbone": backbone, "weights": bundled[0] if bundled else "random"}
    return {}


def run(args: argparse.Namespace) -> int:
    from pathscaat.models.catalog import validate_backbone

    config = build_config(args)
    validate_backbone(config.backbone)  # before the run folder gets its run_config.json
    if args.estimate:
        return _estimate(config, args.progress)
    from pathscaat.outdir import undone_on_failure
    from pathscaat.training import train

    with (
        undone_on_failure(config.out, keep=_has_checkpoint),
        progress_job(args.progress, abort_on_repeat=(signal.SIGINT,)) as (printer, should_stop),
    ):
        on_progress = printer if args.progress == "json" else _SetupLines(printer)
        result = train(config, on_progress=on_progress, should_stop=should_stop)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return 0
    if args.progress == "json":
        printer.event("result", **result.to_dict())
        return 0
    m = result.metrics
    print(
        f"trained {config.backbone} ({config.scaat.objective}) for {result.epochs_run} epoch"
        f"{'' if result.epochs_run == 1 else 's'}"
    )
    if "accuracy" in m:
        print(f"{best_line(config.select, result.best_epoch, m)}: validation accuracy "
              f"{m['accuracy']:.3f}, balanced accuracy {m['balanced_accuracy']:.3f}, "
              f"loss {m['loss']:.4f}")  # fmt: skip
    print(f"checkpoints: {result.best}.safetensors (best), {result.last}.safetensors (last)")
    return 0


def _has_checkpoint(out: Path) -> bool:
    """A failed or cancelled run keeps its folder when it holds a checkpoint to resume."""
    return any(out.glob("*.safetensors"))


def best_line(select: str, best_epoch: int, metrics: dict[str, Any]) -> str:
    """What ``best`` is and which measure chose it, e.g. ``best = epoch 3 (chosen by the
    best validation balanced accuracy)``."""
    from pathscaat.training.selection import SELECTED_BY

    if select == "average":
        n = int(metrics.get("averaged_epochs", 1))
        first = best_epoch - n + 1
        epochs = f"epoch {best_epoch}" if n == 1 else f"epochs {first}-{best_epoch}"
        return f"best = the average of the weights of {epochs}"
    return f"best = epoch {best_epoch} (chosen by {SELECTED_BY[select]})"


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
