"""``train(config, on_progress, should_stop) -> TrainResult``: the whole fine-tuning run.

AdamW with linear warm-up then cosine decay (set per step, so resuming needs only the step
count), AMP on CUDA, per-epoch validation, ``best`` and ``last`` checkpoints in
``config.out``, resume, early stopping, cooperative cancel that saves ``last`` first, and
a clear stop on a non-finite loss. Runs the same under torchrun (DDP, rank 0 writes).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pathscaat.data.loader import make_loader, shutdown_workers
from pathscaat.data.patch_folder import PatchFolder, data_hash
from pathscaat.models import CheckpointMeta, PathscaatModel, create_model
from pathscaat.models.checkpoint import checkpoint_stem, read_meta, state_mismatch
from pathscaat.models.device import resolve_device
from pathscaat.models.starting_weights import backbone_for, load_start, resolve_start
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    PathscaatError,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)
from pathscaat.starting_names import is_pretrained
from pathscaat.training import distributed as ddp
from pathscaat.training.config import TrainConfig, TrainResult, choose_lr
from pathscaat.training.data_setup import RunData, prepare_data
from pathscaat.training.loop import EpochContext, StopRequested, train_epoch
from pathscaat.training.recipe import init_head, param_groups, resolve_head_init
from pathscaat.training.run_book import RunBook, Validator, best_val_epoch
from pathscaat.training.source_setup import resolve_data
from pathscaat.training.state import RunState, has_state, load_state
from pathscaat.training.strip import SaliencyStrip


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def starts_pretrained(config: TrainConfig) -> bool:
    """Whether the run fine-tunes pretrained weights (any start but random ones)."""
    return is_pretrained(config.weights)


def build_model(config: TrainConfig, num_classes: int) -> tuple[PathscaatModel, dict[str, Any]]:
    """The run's model from its starting point: the weights' architecture arguments and
    native mean/std (recorded in the checkpoint, so it rebuilds offline), the weights loaded,
    the head initialised by the recipe."""
    point = resolve_start(config.weights)
    backbone = backbone_for(point, config.backbone)
    kwargs = {**point.timm_kwargs(), **config.timm_kwargs}
    if config.img_size is not None:
        kwargs["img_size"] = config.img_size
    model = create_model(backbone, num_classes, **kwargs)
    load_start(point, model.backbone)
    init_head(model, resolve_head_init(config.head_init, starts_pretrained(config)))
    if config.img_size is not None:
        model.input_px = config.img_size
    return model, kwargs


def _lr(config: TrainConfig) -> float:
    assert config.lr is not None, "train() chooses the learning rate first"
    return config.lr


def lr_schedule(config: TrainConfig, steps_per_epoch: int) -> Any:
    """Linear warm-up over ``warmup_epochs``, then cosine decay to 1% of ``lr``."""
    base = _lr(config)
    total = max(1, config.epochs * steps_per_epoch)
    warm = min(total - 1, round(config.warmup_epochs * steps_per_epoch))

    def lr_at(step: int) -> float:
        if step < warm:
            return base * (step + 1) / (warm + 1)
        progress = min(1.0, (step - warm) / max(1, total - warm))
        return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))

    return lr_at


def _meta(
    config: TrainConfig, model: PathscaatModel, data: RunData, kwargs: dict[str, Any]
) -> CheckpointMeta:
    train_knobs = {
        k: getattr(config, k)
        for k in (
            "epochs", "batch_size", "lr", "weight_decay", "warmup_epochs", "seed",
            "head_init", "head_lr_scale", "layer_decay", "probe_epochs", "bn", "select",
            "weights",
        )
    }  # fmt: skip
    return CheckpointMeta(
        backbone=config.backbone,
        class_names=list(data.folder.classes),
        input_px=data.img_px,
        mean=list(model.mean),
        std=list(model.std),
        mpp=data.scale.model_mpp,
        patch=data.scale.to_dict(),
        objective=config.scaat.objective,
        knobs={**config.scaat.to_dict(), "train": train_knobs},
        split={"path": str((config.out / "split.json").resolve()), **data.split_record()},
        data_hash=data_hash(data.folder.items),
        timm_kwargs=kwargs,
    )


def _resume(
    config: TrainConfig, model: PathscaatModel, classes: list[str], opt: torch.optim.Optimizer
) -> RunState:
    """Weights (and, when saved, optimiser and run state) of ``config.resume``."""
    from safetensors.torch import load_file

    assert config.resume is not None
    meta = read_meta(config.resume)
    if meta.backbone != config.backbone or meta.class_names != classes:
        raise PathscaatError(
            f"--resume {config.resume} is a {meta.backbone} model of classes "
            f"{meta.class_names}, this run is {config.backbone} on {classes}; give the same "
            "--backbone and data"
        )
    stem = checkpoint_stem(config.resume)
    weights = stem.with_suffix(".safetensors")
    try:
        state = load_file(str(weights))
    except Exception as exc:  # SafetensorError: truncated or not safetensors
        raise PathscaatError(
            f"cannot resume from {stem}: its weights {weights.name} cannot be read "
            f"({type(exc).__name__}: {exc}); the file is truncated or damaged"
        ) from exc
    mismatch = state_mismatch(model.state_dict(), state)
    if mismatch:
        raise PathscaatError(
            f"cannot resume from {stem}: its weights do not fit a {config.backbone} "
            f"({mismatch})"
        )
    model.load_state_dict(state)
    if has_state(stem):
        return load_state(stem, opt)
    return RunState(epochs_done=meta.epoch)


def _amp(config: TrainConfig, device: torch.device) -> tuple[torch.dtype | None, Any]:
    if not config.amp or device.type != "cuda":
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def train(
    config: TrainConfig,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> TrainResult:
    """Fine-tune ``config.backbone`` on ``config.data`` with ``config.scaat``'s objective.

    Raises ``JobCancelled`` (after saving ``last``) when ``should_stop`` turns True and
    ``PathscaatError`` for a user-level problem (bad data, diverged loss...).
    """
    dist = ddp.init_distributed(resolve_device(config.device))
    on_progress = on_progress if dist.is_main else no_progress
    try:
        config = resolve_data(config, on_progress, should_stop, dist.is_main)
        return _train(_with_lr(config, on_progress), dist, on_progress, should_stop)
    finally:
        ddp.shutdown(dist)


def _with_lr(config: TrainConfig, on_progress: OnProgress) -> TrainConfig:
    """``config`` with its learning rate chosen (when not given) and reported."""
    resumed = None
    if config.lr is None and config.resume is not None:
        resumed = read_meta(config.resume).knobs.get("train", {}).get("lr")
    lr, why = choose_lr(config, resumed)
    on_progress(ProgressRecord("setup", 1, 1, f"learning rate {lr:g} ({why})", {"lr": lr}))
    return replace(config, lr=lr)


def _train(
    config: TrainConfig, dist: ddp.DistInfo, on_progress: OnProgress, should_stop: ShouldStop
) -> TrainResult:
    device = resolve_device(config.device, local_rank=dist.local_rank)
    seed_everything(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    model, kwargs = build_model(config, len(PatchFolder(config.data).classes))
    data = prepare_data(config, model.input_px, dist, on_progress)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    groups = param_groups(model, config.weight_decay, config.head_lr_scale, config.layer_decay)
    opt = torch.optim.AdamW(groups, lr=_lr(config), weight_decay=config.weight_decay)
    classes = list(data.folder.classes)
    state = _resume(config, model, classes, opt) if config.resume else RunState()
    run = RunBook(config, model, _meta(config, model, data, kwargs), opt, state, dist)
    ctx = _epoch_context(config, run, data, device, on_progress, should_stop)
    stopped_early = _run_epochs(run, ctx, data, device)
    best = [h for h in state.history if h["epoch"] == state.best_epoch]
    if run.best_metrics is not None:
        best = [run.best_metrics]
    return TrainResult(
        out=config.out,
        best=config.out / "best",
        last=config.out / "last",
        epochs_run=state.epochs_done,
        best_epoch=state.best_epoch,
        metrics=best[0] if best else {},
        history=state.history,
        stopped_early=stopped_early,
    )


def _run_epochs(run: RunBook, ctx: EpochContext, data: RunData, device: torch.device) -> bool:
    """Train, validate and save each remaining epoch; True when early stopping ended it."""
    config = run.config
    val_loader = make_loader(data.val, config.batch_size * 2, shuffle=False, workers=config.workers)
    try:
        return _epochs(run, ctx, data, device, val_loader)
    finally:  # workers stopped here, not by the garbage collector at exit
        shutdown_workers(ctx.loader, val_loader)


def _epochs(
    run: RunBook, ctx: EpochContext, data: RunData, device: torch.device, val_loader: Any
) -> bool:
    config, state = run.config, run.state
    classes = list(data.folder.classes)
    validate = (
        Validator(val_loader, classes, device, config.out, run.dist.is_main)
        if len(data.val)
        else None
    )
    strip = _strip(config, data) if run.dist.is_main else None
    first_epoch, started = state.epochs_done, time.perf_counter()
    for epoch in range(state.epochs_done, config.epochs):
        set_epoch = getattr(ctx.loader.sampler, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)
        try:
            train_metrics, state.global_step = train_epoch(ctx, epoch, state.global_step)
        except StopRequested:
            last = run.save("last", state.epochs_done, {"cancelled_in_epoch": epoch + 1})
            msg = f"training stopped in epoch {epoch + 1}; checkpoint kept: {last}"
            raise JobCancelled(msg) from None
        if validate is not None:
            metrics = {**train_metrics, **validate(run.model, epoch)}
        else:
            metrics = {**train_metrics, "loss": train_metrics["train_loss"]}
        run.end_epoch(epoch, metrics, validate)
        strip_path = None
        if strip is not None and config.strip_every and (epoch + 1) % config.strip_every == 0:
            strip_path = strip.write(run.model, epoch + 1, device)
        per_epoch = (time.perf_counter() - started) / (epoch + 1 - first_epoch)
        eta_s = per_epoch * (config.epochs - epoch - 1)
        record = epoch_record(epoch, config.epochs, metrics, strip_path, eta_s)
        if strip_path is not None and strip is not None:  # what the strip's columns show
            record.extra.update(strip_classes=strip.class_names, strip_correct=strip.correct)
        ctx.on_progress(record)
        if config.patience and epoch + 1 - best_val_epoch(state.history) >= config.patience:
            return True
    return False


def _strip(config: TrainConfig, data: RunData) -> SaliencyStrip | None:
    """The fixed strip patches: validation's, else training's (a run without validation)."""
    if not config.strip_every or not config.strip_count:
        return None
    source = data.val if len(data.val) else data.train
    return SaliencyStrip(source, data.img_px, config.strip_count, config.out / "strips")


def epoch_record(
    epoch: int, epochs: int, metrics: dict[str, Any], strip: Path | None, eta_s: float
) -> ProgressRecord:
    """The ``epoch`` record the wizard's curves read: losses, validation, strip PNG, ETA."""
    acc = metrics.get("accuracy", metrics.get("train_correct", math.nan))
    extra = {
        **metrics,
        "epoch": epoch + 1,
        "epochs": epochs,
        "train_ce": metrics.get("train_ce"),
        "train_reg": metrics.get("train_reg"),
        "train_loss": metrics.get("train_loss"),
        "val_acc": metrics.get("accuracy"),
        "val_bal_acc": metrics.get("balanced_accuracy"),
        "val_loss": metrics.get("loss") if "accuracy" in metrics else None,
        "strip": None if strip is None else str(strip),
        "eta_s": eta_s,
    }
    message = f"epoch {epoch + 1} accuracy {acc:.3f}"
    return ProgressRecord("epoch", epoch + 1, epochs, message, extra)


def _epoch_context(
    config: TrainConfig,
    run: RunBook,
    data: RunData,
    device: torch.device,
    on_progress: OnProgress,
    should_stop: ShouldStop,
) -> EpochContext:
    sampler = ddp.make_sampler(data.train, run.dist, shuffle=True, seed=config.seed)
    per_rank = max(1, config.batch_size // run.dist.world_size)
    loader = make_loader(
        data.train,
        per_rank,
        shuffle=True,
        workers=config.workers,
        sampler=sampler,
        drop_last=len(data.train) > per_rank * run.dist.world_size,
        seed=config.seed,
        pin_memory=device.type == "cuda",
    )
    amp_dtype, scaler = _amp(config, device)
    steps = max(1, len(loader))
    return EpochContext(
        model=ddp.wrap_model(run.model, run.dist, device),
        inner=run.model,
        optimizer=run.opt,
        loader=loader,
        scaat=config.scaat,
        device=device,
        dist=run.dist,
        lr_at=lr_schedule(config, steps),
        total_steps=config.epochs * steps,
        epochs=config.epochs,
        on_progress=on_progress,
        should_stop=should_stop,
        scaler=scaler,
        amp_dtype=amp_dtype,
        progress_every=config.progress_every,
        bn=config.bn,
        probe_epochs=config.probe_epochs,
        channels_last=config.channels_last,
    )
