"""``pathscaat evaluate``: saliency quality of one or more checkpoints on a patch folder.

Runs the protocol of docs/evaluation.md (accuracy, Gini, entropy, deletion/insertion
AUC against a random order, masked-accuracy curve, randomisation sanity check, and
localisation where the folder has evidence masks) and writes ``report.md``,
``metrics.json`` and PNG plots to ``--out``.
"""

from __future__ import annotations

import argparse
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import add_progress_arg
from pathscaat.outdir import cleaned_on_failure


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="saliency quality of checkpoints: sparseness, faithfulness, sanity, localisation",
        description=(__doc__ or "").splitlines()[0].replace("``", ""),
    )
    p.add_argument(
        "--data", required=True, help="patch folder (class per sub-folder; masks/ optional)"
    )
    p.add_argument(
        "--models",
        required=True,
        nargs="+",
        metavar="CKPT",
        help="checkpoints (.json/.safetensors/stem)",
    )
    p.add_argument(
        "--methods",
        nargs="+",
        default=["vanilla", "smoothgrad", "integrated_gradients"],
        help="saliency methods: vanilla, input_x_gradient, smoothgrad, integrated_gradients, "
        "gradcam",
    )
    p.add_argument(
        "--max-images",
        type=_positive_int,
        default=None,
        metavar="N",
        help="at most N held-out images per model, classes balanced (default: all)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1...")
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument(
        "--sanity-images",
        type=_positive_int,
        default=16,
        metavar="N",
        help="images used by the randomisation sanity check",
    )
    p.add_argument(
        "--smoothgrad-samples",
        type=_positive_int,
        default=16,
        metavar="N",
        help="noisy copies averaged by SmoothGrad",
    )
    p.add_argument(
        "--ig-steps",
        type=_positive_int,
        default=32,
        metavar="N",
        help="path steps of Integrated Gradients",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the random pixel order and sampling"
    )
    p.add_argument("--out", required=True, help="output folder for report.md, metrics.json, plots")
    add_progress_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathscaat.evaluation import EvalSettings, evaluate

    settings = EvalSettings(
        batch_size=args.batch_size,
        sanity_images=args.sanity_images,
        seed=args.seed,
        method_kwargs={
            "smoothgrad": {"n_samples": args.smoothgrad_samples},
            "integrated_gradients": {"n_steps": args.ig_steps},
        },
    )
    with cleaned_on_failure(args.out), progress_job(args.progress) as (printer, should_stop):
        result = evaluate(
            args.models, args.data, args.methods, args.out,
            max_images=args.max_images, device=args.device, settings=settings,
            on_progress=printer, should_stop=should_stop,
        )  # fmt: skip
    printer.result(
        [f"report: {result.report}"],
        out=str(result.out),
        report=str(result.report),
        metrics=str(result.metrics_json),
        plots=[str(p) for p in result.plots],
    )
    return 0
