"""One loss for ERM, SGT, SCAAT and TRADES (scaat-method.md), batched.

``L = CE(f(x), y) + lam * D(p(x) || p(x_adv))``: the guidance saliency comes from the same
clean forward that gives the cross-entropy (``autograd.grad`` with ``retain_graph``), the
adversary works inside the saliency-set budget, and only the clean forward moves
BatchNorm running statistics. The baselines are presets of the same knobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pathscaat.training.attack import divergence, frozen_bn_stats, perturb
from pathscaat.training.config import ScaatConfig
from pathscaat.training.masks import budget_fraction, cell_guidance, normalise_saliency


@dataclass
class StepLoss:
    """The loss to back-propagate and its parts (``ce``, ``reg`` detached, for logging)."""

    loss: torch.Tensor
    ce: torch.Tensor
    reg: torch.Tensor
    logits: torch.Tensor
    x_adv: torch.Tensor | None = None
    budget: float = 1.0  # mean |budget fraction| over the batch's pixels (1 = full eps)


def guidance_saliency(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Vanilla gradient of the true-class logit w.r.t. ``x``, normalised per sample (B x H x W).

    Reuses the graph of the clean forward (``retain_graph``) rather than a second forward.
    """
    true_logit = logits.gather(1, y.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(true_logit, x, retain_graph=True, create_graph=False)
    return normalise_saliency(grad)


def adversarial_guidance(
    model: nn.Module, x: torch.Tensor, logits: torch.Tensor, y: torch.Tensor, cfg: ScaatConfig
) -> torch.Tensor:
    """Saliency of the true class at an unguided attack's image (ASGT's guidance).

    Costs one more attack (full budget, same steps and loss) and one forward-backward.
    """
    x_pre = perturb(
        model, x, logits, None, eps=cfg.eps, alpha=cfg.step_size, steps=cfg.steps,
        start="uniform", kind=cfg.divergence, y=y, attack_loss=cfg.attack_loss,
    )  # fmt: skip
    x_pre.requires_grad_(True)
    with frozen_bn_stats(model):
        pre_logits = model(x_pre)
    true_logit = pre_logits.gather(1, y.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(true_logit, x_pre)
    return normalise_saliency(grad)


def objective_loss(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: ScaatConfig,
    attack_model: nn.Module | None = None,
) -> StepLoss:
    """Loss of one batch under ``cfg`` (already at the current epoch's eps).

    ``attack_model`` runs the attack and adversarial forwards (the bare module under DDP,
    so only the clean forward goes through the wrapper); default ``model``.
    """
    attack_model = model if attack_model is None else attack_model
    regularise = cfg.objective != "erm" and cfg.lam > 0
    guided = regularise and cfg.mask != "none"
    from_clean = guided and cfg.guidance_from == "clean"
    x = x.detach().requires_grad_(from_clean)
    logits = model(x)
    ce = F.cross_entropy(logits.float(), y)
    if not regularise:
        return StepLoss(ce, ce.detach(), torch.zeros_like(ce.detach()), logits.detach())
    sal = None
    if guided:
        sal = (
            guidance_saliency(logits, x, y)
            if from_clean
            else adversarial_guidance(attack_model, x, logits, y, cfg)
        )
    if sal is not None and cfg.guidance_cell > 1:
        sal = cell_guidance(sal, cfg.guidance_cell)
    frac = budget_fraction(
        sal, cfg.mask, cfg.gamma, cfg.tau, cfg.k, cfg.random_like, invert=cfg.invert
    )
    x_adv = perturb(
        attack_model, x, logits, frac, eps=cfg.eps, alpha=cfg.step_size, steps=cfg.steps,
        start=cfg.start, kind=cfg.divergence, y=y, attack_loss=cfg.attack_loss,
    )  # fmt: skip
    with frozen_bn_stats(attack_model):
        adv_logits = attack_model(x_adv)
    reg = divergence(logits, adv_logits, cfg.divergence)
    loss = ce + cfg.lam * reg
    budget = 1.0 if frac is None else float(frac.abs().mean())
    return StepLoss(loss, ce.detach(), reg.detach(), logits.detach(), x_adv, budget)
