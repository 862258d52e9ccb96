"""The adversary inside a budget, the divergence it maximises, and frozen BatchNorm stats.

BatchNorm running statistics must describe clean data only: the attack's and the
adversarial forward passes run in train mode (batch statistics, as the clean pass) inside
``frozen_bn_stats``, which keeps them off the running buffers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


def divergence(clean_logits: torch.Tensor, adv_logits: torch.Tensor, kind: str) -> torch.Tensor:
    """``D(p_clean || p_adv)`` averaged over the batch; ``kl`` or symmetric ``js``."""
    logp = F.log_softmax(clean_logits.float(), dim=1)
    logq = F.log_softmax(adv_logits.float(), dim=1)
    if kind == "kl":
        return F.kl_div(logq, logp, reduction="batchmean", log_target=True)
    logm = torch.logsumexp(torch.stack([logp, logq]), dim=0) - math.log(2.0)
    kl_pm = F.kl_div(logm, logp, reduction="batchmean", log_target=True)
    kl_qm = F.kl_div(logm, logq, reduction="batchmean", log_target=True)
    return 0.5 * (kl_pm + kl_qm)


@contextmanager
def frozen_bn_stats(model: nn.Module) -> Iterator[None]:
    """Run forwards in train mode (batch statistics) without touching BN running buffers.

    ``track_running_stats=False`` makes BatchNorm skip its buffers altogether; copying them
    back afterwards would not do, since the clean forward's graph saved them for backward.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tracked = [bn.track_running_stats for bn in bns]
    for bn in bns:
        bn.track_running_stats = False
    try:
        yield
    finally:
        for bn, flag in zip(bns, tracked, strict=True):
            bn.track_running_stats = flag


def random_start(
    x: torch.Tensor, frac: torch.Tensor | None, eps: float, start: str
) -> tuple[torch.Tensor, torch.Tensor | float]:
    """First perturbation and the per-pixel bound on ``|delta|``.

    ``uniform``: ``delta ~ U(-b, b)`` with ``b = eps * frac``. ``fill``: masked pixels are
    replaced by uniform noise in each image's own range (SGT); their bound is the full range.
    """
    if start == "fill":
        flat = x.flatten(1)
        lo = flat.amin(dim=1).view(-1, 1, 1, 1)
        hi = flat.amax(dim=1).view(-1, 1, 1, 1)
        noise = lo + (hi - lo) * torch.rand_like(x)
        weight = torch.ones_like(x[:, :1]) if frac is None else frac.abs()
        return weight * (noise - x), weight
    bound: torch.Tensor | float = eps if frac is None else eps * frac.abs()
    delta = (2.0 * torch.rand_like(x) - 1.0) * bound
    return delta, bound


def _project(x: torch.Tensor, delta: torch.Tensor, bound: torch.Tensor | float) -> torch.Tensor:
    if isinstance(bound, torch.Tensor):
        delta = torch.maximum(torch.minimum(delta, bound), -bound)
    else:
        delta = delta.clamp(-bound, bound)
    return (x + delta).clamp(0.0, 1.0) - x


def attack_objective(
    p_clean: torch.Tensor, adv_logits: torch.Tensor, y: torch.Tensor | None, kind: str, loss: str
) -> torch.Tensor:
    """What the adversary ascends: ``kl`` = ``divergence(kind)`` to the clean prediction,
    ``ce`` = cross-entropy of the true label ``y`` (a first-order term at delta = 0)."""
    if loss == "ce":
        if y is None:
            raise ValueError("attack_loss='ce' needs the labels")
        return F.cross_entropy(adv_logits.float(), y)
    return divergence(p_clean, adv_logits, kind)


def perturb(
    model: nn.Module,
    x: torch.Tensor,
    clean_logits: torch.Tensor,
    frac: torch.Tensor | None,
    *,
    eps: float,
    alpha: float,
    steps: int,
    start: str,
    kind: str,
    y: torch.Tensor | None = None,
    attack_loss: str = "kl",
) -> torch.Tensor:
    """``x + delta`` after ``steps`` signed-gradient steps on the attack objective (PGD).

    ``frac`` (B x 1 x H x W in [-1,1], None = 1) scales the budget per pixel: after every
    signed step ``|delta|`` is clipped to ``eps * |frac|`` per pixel (the clip, not a mask
    on the gradient before its sign, keeps a soft budget soft); where ``frac < 0`` the
    step descends instead. ``p_clean`` is detached; the result is in [0,1] and detached.
    BatchNorm stats are left untouched.
    """
    x = x.detach()
    p_clean = clean_logits.detach()
    delta, bound = random_start(x, frac, eps, start)
    delta = _project(x, delta, bound)
    direction = 1.0 if frac is None else frac.sign()
    if steps > 0:
        with frozen_bn_stats(model):
            for _ in range(steps):
                delta.requires_grad_(True)
                loss = attack_objective(p_clean, model(x + delta), y, kind, attack_loss)
                (grad,) = torch.autograd.grad(loss, delta)
                step = alpha * direction * grad.sign()
                delta = _project(x, delta.detach() + step, bound)
    return (x + delta).detach()
