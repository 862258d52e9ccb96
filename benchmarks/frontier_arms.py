"""The frontier's profiles and arms: what each sweep trains, as ``ScaatConfig`` presets.

Arms share one objective code path; the budget-matched controls (the soft budget shuffled
over pixels, the inverted placement, TRADES at the soft arm's mean budget) differ from
SCAAT only in where the budget goes. A profile is the recipe around them (backbone, size,
epochs, lr, the start: random weights, the seed's ERM model, or pretrained weights).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pathscaat.training import ScaatConfig
from pathscaat.training.config import PRETRAINED_LR

NO_EPS = ("erm", "sgt")  # arms that do not depend on eps: one cell per seed


@dataclass(frozen=True)
class Profile:
    arms: tuple[str, ...]
    eps_255: tuple[float, ...]
    seeds: tuple[int, ...]
    datasets: tuple[str, ...]
    backbone: str = "resnet10t"
    img_px: int = 48
    epochs: int = 12
    lr: float = 3e-3
    batch_size: int = 32
    warmup_epochs: float = 1.0
    steps: int = 5
    gamma: float = 4.0
    tau: float = 0.3
    lam: float = 1.0
    fragile_per_class: int = 300
    # evidence amplitude: at 4/255 ERM stayed at the distractor's 75% (10 epochs, 200/class);
    # at 8/255 (12 epochs, 300/class) it learnt the texture (val 0.99): see docs/training.md
    fragile_contrast_255: float = 8.0
    kather_per_class: int | None = 100  # None = all 200 of each class
    eval_images: int | None = 96
    sanity_images: int = 4
    # "random": every arm trains from random weights; "erm": every arm fine-tunes the same
    # seed's default-profile ERM model (guidance from a model that has already learnt the
    # evidence); "pretrained": every arm fine-tunes ``weights`` (a weights spec, e.g. the
    # bundled ImageNet backbone) with the product's recipe: the users' case
    init: str = "random"
    weights: str | None = None
    head_init: str = "auto"
    reg_start_epochs: float = 0.0  # the adversary starts after the new head has settled
    # saliency methods evaluated: the first fills the table, the others add prefixed keys
    methods: tuple[str, ...] = ("vanilla",)
    full_test: bool = False  # also score faithfulness on the whole test split


ALL_ARMS = ("erm", "trades", "scaat-soft", "shuffled", "trades-meanbudget", "inverted",
            "scaat-adaptive", "sgt")  # fmt: skip
# the "one try each" method variants, run by name with --arms (not in any profile)
VARIANT_ARMS = ("scaat-soft-cell4", "scaat-signed", "scaat-soft-g2", "scaat-adaptive-t01",
                "scaat-advguide",
                "scaat-soft-lam4", "trades-lam4")  # fmt: skip
PRETRAINED_ARMS = ("erm", "trades", "scaat-soft", "shuffled", "inverted", "trades-meanbudget",
                   "scaat-soft-cell4")  # fmt: skip
# what each guided arm must beat beyond the seed spread (paired by seed, per eps)
CONTROLS = ("trades", "shuffled", "inverted", "trades-meanbudget", "erm")
COMPARISONS = {
    "scaat-soft": CONTROLS,
    "scaat-adaptive": CONTROLS,
    **{arm: ("trades", "scaat-soft") for arm in VARIANT_ARMS},
    "scaat-soft-cell4": (*CONTROLS, "scaat-soft"),
}
DEFAULT = Profile(arms=ALL_ARMS, eps_255=(2, 4, 8, 16, 32), seeds=(0, 1, 2),
                  datasets=("fragile", "kather"))  # fmt: skip
PROFILES = {
    "default": DEFAULT,
    "quick": replace(
        DEFAULT,
        arms=("erm", "trades", "scaat-soft", "shuffled"),
        eps_255=(16,),
        seeds=(0,),
        datasets=("fragile",),
        epochs=6,
        fragile_per_class=100,
        eval_images=48,
        steps=3,
    ),
    "smoke": replace(
        DEFAULT,
        arms=("scaat-soft", "trades-meanbudget"),
        eps_255=(8,),
        seeds=(0,),
        datasets=("fragile",),
        epochs=1,
        img_px=32,
        batch_size=8,
        fragile_per_class=8,
        eval_images=6,
        steps=2,
        sanity_images=2,
        backbone="test_resnet",
    ),
    "finetune": replace(
        DEFAULT,
        arms=("erm", "trades", "scaat-soft", "shuffled", "inverted"),
        datasets=("fragile",),
        init="erm",
        epochs=6,
        lr=1e-3,
    ),
    "pretrained": replace(
        DEFAULT,
        arms=PRETRAINED_ARMS,
        eps_255=(16, 4, 8, 2),
        datasets=("kather", "fragile"),
        backbone="tf_efficientnet_lite0",
        img_px=64,
        epochs=5,
        lr=PRETRAINED_LR,
        steps=3,
        init="pretrained",
        weights="imagenet:efficientnet_lite0",
        reg_start_epochs=0.0,  # the product's default (docs/training.md, recipe)
        methods=("vanilla", "smoothgrad"),
        full_test=True,
    ),
    "full": replace(
        DEFAULT,
        backbone="resnet18",
        img_px=224,
        epochs=30,
        lr=1e-3,
        steps=10,
        fragile_per_class=600,
        kather_per_class=None,
        eval_images=None,
        sanity_images=16,
    ),
}


def arm_config(arm: str, eps: float, p: Profile, mean_budget: float = 1.0) -> ScaatConfig:
    """The knobs of one arm at ``eps`` (in [0,1] units)."""
    attack = {"eps": eps, "steps": p.steps, "alpha": 2.5 * eps / p.steps, "lam": p.lam,
              "eps_warmup_epochs": p.warmup_epochs,
              "reg_start_epochs": p.reg_start_epochs}  # fmt: skip
    soft = {**attack, "mask": "soft", "gamma": p.gamma}
    presets: dict[str, tuple[str, dict[str, Any]]] = {
        "erm": ("erm", {}),
        "sgt": ("sgt", {"eps_warmup_epochs": p.warmup_epochs}),
        "trades": ("trades", attack),
        "scaat-soft": ("scaat", soft),
        "shuffled": ("scaat", {**soft, "mask": "random", "random_like": "soft"}),
        "inverted": ("scaat", {**soft, "invert": True}),
        "scaat-adaptive": ("scaat", {**attack, "mask": "adaptive", "tau": p.tau}),
        "scaat-signed": ("scaat", {**attack, "mask": "signed", "tau": 0.5, "attack_loss": "ce"}),
        "scaat-soft-g2": ("scaat", {**soft, "gamma": 2.0}),
        "scaat-soft-cell4": ("scaat", {**soft, "guidance_cell": 4}),
        "scaat-adaptive-t01": ("scaat", {**attack, "mask": "adaptive", "tau": 0.1}),
        "scaat-advguide": ("scaat", {**soft, "guidance_from": "adversarial"}),
        "scaat-soft-lam4": ("scaat", {**soft, "lam": 4.0}),
        "trades-lam4": ("trades", {**attack, "lam": 4.0}),
        "trades-meanbudget": ("trades", {**attack, "eps": eps * mean_budget,
                                         "alpha": 2.5 * eps * mean_budget / p.steps}),
    }  # fmt: skip
    objective, knobs = presets[arm]
    return ScaatConfig.for_objective(objective, **knobs)
