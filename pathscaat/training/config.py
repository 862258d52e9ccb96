"""Settings of a training run: the objective's knobs and the run around it.

Every default here is ours (the SCAAT paper's method section is not available offline;
../shared/docs/scaat-method.md is the project's specification), not the paper's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pathscaat.data.data_source import DataSource
from pathscaat.progress import PathscaatError
from pathscaat.starting_names import is_pretrained
from pathscaat.training.recipe import BN_MODES, HEAD_INITS

OBJECTIVES = ("erm", "sgt", "scaat", "trades")
MASKS = ("soft", "adaptive", "fraction", "signed", "random", "none")
SALIENCY_MASKS = ("soft", "adaptive", "fraction", "signed")
DIVERGENCES = ("kl", "js")
STARTS = ("uniform", "fill")
ATTACK_LOSSES = ("kl", "ce")
GUIDANCE_FROM = ("clean", "adversarial")
SELECTIONS = ("balanced_accuracy", "loss", "last", "average")
RANDOM_START_LR = 3e-3
PRETRAINED_LR = 1e-3


@dataclass
class ScaatConfig:
    """Knobs of the one objective that ERM, SGT, SCAAT and TRADES share (defaults are ours).

    - ``mask``: where the adversary may push. ``soft``: per-pixel budget
      ``eps * (1 - s)**gamma``; ``adaptive``: lowest-saliency pixels holding at most ``tau``
      of the saliency mass; ``fraction``: lowest ``k`` fraction; ``signed``: weight
      ``tau - s`` (|weight| scales the budget, a negative weight makes the step
      anti-adversarial: it helps the model on the salient pixels, as AdvGrad's weighted
      step); ``random``: the budget-matched control, the per-pixel budget map of
      ``random_like`` shuffled over each image's pixels (same values, same distribution,
      no saliency placement); ``none``: full budget everywhere (TRADES).
    - ``invert``: the same budget values placed in reversed saliency order (the most salient
      pixel gets the largest budget): the inverted-guidance control, matched on budget.
    - ``eps``, ``alpha`` (default ``1.25 * eps``), ``steps``: the signed-gradient attack in
      [0,1] pixel units, with a uniform random start; ``start="fill"`` instead replaces the
      masked pixels by uniform noise in the image's range (SGT's masking).
    - ``lam`` and ``divergence`` (``kl``/``js``): weight and kind of the consistency term.
    - ``eps_warmup_epochs``: eps (and alpha) ramp linearly from 0 over these epochs.
    - ``attack_loss``: what the adversary ascends: ``kl`` = ``divergence`` to the clean
      prediction (TRADES; its first-order term is zero at delta = 0), ``ce`` = the
      cross-entropy of the true label.
    - ``guidance_from``: ``clean`` saliency (one clean forward shared with the loss), or
      ``adversarial``: saliency of the true class at an unguided attack's image (ASGT;
      costs one more attack and backward).
    - ``guidance_cell``: > 1 averages the guidance saliency over cells of that many px
      before the budget is set (min-max rescaled), so a strided stem's checkerboard cannot
      steer the budget onto its own lattice; 1 = the raw map.
    - ``reg_start_epochs``: the adversary and the consistency term are off (plain CE, at
      ERM's cost) before this epoch, so a fresh head settles first; eps then ramps in over
      ``eps_warmup_epochs``.
    """

    objective: str = "scaat"
    mask: str = "soft"
    eps: float = 4 / 255
    steps: int = 1
    alpha: float | None = None
    gamma: float = 1.0
    tau: float = 0.5
    k: float = 0.5
    lam: float = 1.0
    divergence: str = "kl"
    eps_warmup_epochs: float = 1.0
    start: str = "uniform"
    random_like: str = "soft"
    invert: bool = False
    attack_loss: str = "kl"
    guidance_from: str = "clean"
    guidance_cell: int = 1
    reg_start_epochs: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "objective": (self.objective, OBJECTIVES),
            "mask": (self.mask, MASKS),
            "divergence": (self.divergence, DIVERGENCES),
            "start": (self.start, STARTS),
            "random_like": (self.random_like, SALIENCY_MASKS),
            "attack_loss": (self.attack_loss, ATTACK_LOSSES),
            "guidance_from": (self.guidance_from, GUIDANCE_FROM),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise PathscaatError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        if min(self.eps, self.steps, self.lam, self.gamma, self.reg_start_epochs) < 0:
            raise PathscaatError("eps, steps, lam, gamma and reg_start_epochs must not be negative")
        if not (0.0 <= self.tau <= 1.0 and 0.0 <= self.k <= 1.0):
            raise PathscaatError("tau and k are fractions: give values in [0, 1]")
        if self.guidance_cell < 1:
            raise PathscaatError("guidance_cell is a cell size in px: give 1 (off) or more")

    @classmethod
    def for_objective(cls, objective: str, **knobs: Any) -> ScaatConfig:
        """The knobs of a named objective; ``sgt`` and ``trades`` are presets of one path."""
        presets: dict[str, dict[str, Any]] = {
            "erm": {"lam": 0.0},
            "sgt": {"mask": "fraction", "steps": 0, "start": "fill"},
            "scaat": {},
            "trades": {"mask": "none"},
        }
        if objective not in presets:
            raise PathscaatError(f"objective must be one of {', '.join(OBJECTIVES)}")
        return cls(objective=objective, **{**presets[objective], **knobs})

    @property
    def step_size(self) -> float:
        return 1.25 * self.eps if self.alpha is None else self.alpha

    def at_epoch(self, epoch: float) -> ScaatConfig:
        """Knobs in force at (fractional) ``epoch``: nothing but CE before
        ``reg_start_epochs``, then eps and alpha warm up linearly."""
        if epoch < self.reg_start_epochs:
            return replace(self, lam=0.0)
        epoch -= self.reg_start_epochs
        if self.eps_warmup_epochs <= 0:
            return self
        ramp = min(1.0, max(0.0, epoch / self.eps_warmup_epochs))
        return replace(self, eps=self.eps * ramp, alpha=self.step_size * ramp)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainConfig:
    """One training run; ``sources`` (when given) replace ``data`` as what it trains on.

    ``img_size`` None = the backbone's default input size; ``lr`` None = chosen by
    :func:`choose_lr`; ``mpp`` is the patches' µm/px (the model's is derived).
    ``weights``: where the run starts (:mod:`pathscaat.models.starting_weights`: a name such
    as ``imagenet:efficientnet_lite0``, a file or a model folder; None or ``random``: random
    weights, stored as None);
    ``pretrained_file`` is its older alias (a path), kept so old configs and scripts work.
    ``strip_every``: write a saliency strip of ``strip_count`` fixed validation patches
    every this many epochs (0 = never). ``split_by_group`` False splits per file even
    where slide ids are known (a leaky test; the wizard warns).

    The fine-tuning recipe (``pathscaat.training.recipe``; chosen by the sweep in
    docs/training.md): ``head_init`` (``auto``: zero with pretrained weights, timm's from
    random ones), ``head_lr_scale`` (the new head's lr against the backbone's),
    ``layer_decay`` (layer-wise lr decay of the backbone; None = off), ``probe_epochs``
    (linear-probe warm-up, backbone frozen), ``bn`` (``train`` or ``frozen`` BatchNorm
    statistics), ``select`` (which weights become ``best``: the epoch with the best
    validation ``balanced_accuracy`` or ``loss``, the ``last`` epoch, or the ``average`` of
    the weights of the second half of the epochs), ``channels_last`` (memory layout; about
    1.3-1.5x faster convolutions on CPU, none on results).
    """

    data: Path
    backbone: str = "resnet18"
    scaat: ScaatConfig = field(default_factory=ScaatConfig)
    out: Path = Path("runs/latest")
    epochs: int = 10
    batch_size: int = 32
    lr: float | None = None
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    img_size: int | None = None
    pretrained_file: Path | None = None
    weights: str | None = None
    device: str = "auto"
    seed: int = 0
    resume: Path | None = None
    workers: int = 0
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    patience: int | None = None
    amp: bool = True
    mpp: float | None = None
    augment: bool = True
    min_crop: float = 0.7
    progress_every: int = 1
    timm_kwargs: dict[str, Any] = field(default_factory=dict)
    sources: list[DataSource] = field(default_factory=list)
    strip_every: int = 1
    strip_count: int = 8
    split_by_group: bool = True
    slide_id: str = "auto"  # how a tile's slide is read: pathscaat.data.slide_id.SlideIdRule
    head_init: str = "auto"
    head_lr_scale: float = 1.0
    layer_decay: float | None = None
    probe_epochs: int = 0
    bn: str = "train"
    select: str = "loss"
    channels_last: bool = True

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        if self.pretrained_file is not None:
            alias = str(self.pretrained_file)
            if self.weights not in (None, alias):
                raise PathscaatError(
                    f"weights {self.weights!r} and pretrained_file {alias!r} differ: give one"
                )
            self.weights = alias
        if not is_pretrained(self.weights):
            self.weights = None  # "random" and None are one start
        if self.strip_every < 0 or self.strip_count < 0:
            raise PathscaatError("strip_every and strip_count must not be negative")
        bad = [
            f"{name} {value}"
            for name, value, ok in (
                ("epochs", self.epochs, self.epochs >= 1),
                ("batch size", self.batch_size, self.batch_size >= 1),
                ("lr", self.lr, self.lr is None or self.lr > 0),
                ("min_crop", self.min_crop, 0 < self.min_crop <= 1),
            )
            if not ok
        ]
        if bad:
            raise PathscaatError(
                f"{', '.join(bad)}: epochs and batch size must be at least 1 and lr positive"
            )
        choices = {"head_init": HEAD_INITS, "bn": BN_MODES, "select": SELECTIONS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise PathscaatError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        if self.head_lr_scale <= 0 or self.probe_epochs < 0:
            raise PathscaatError("head_lr_scale must be positive and probe_epochs not negative")
        if self.layer_decay is not None and not 0 < self.layer_decay <= 1:
            raise PathscaatError(f"layer_decay is a factor in (0, 1], got {self.layer_decay}")

    def data_sources(self) -> list[DataSource]:
        """What this run trains on: ``sources``, else the one folder ``data``."""
        return list(self.sources) if self.sources else [DataSource("folder", self.data)]


def choose_lr(config: TrainConfig, resumed_lr: float | None = None) -> tuple[float, str]:
    """The learning rate of a run and why: given, the resumed run's, or per kind of start.

    From random weights a small network needs a large step (the demo's 3e-3). Fine-tuning
    uses 1e-3: with a zero-initialised head, the recipe sweep (docs/training.md) found 1e-4
    0.21 balanced accuracy worse and 3e-4 or 3e-3 no better than 1e-3.
    """
    if config.lr is not None:
        return config.lr, "given"
    if resumed_lr is not None:
        return float(resumed_lr), "the resumed run's"
    if is_pretrained(config.weights):
        return PRETRAINED_LR, "default when starting from pretrained weights"
    return RANDOM_START_LR, "default when starting from random weights"


@dataclass
class TrainResult:
    """What a finished run left: checkpoint stems (``best``/``last``), metrics, where."""

    out: Path
    best: Path
    last: Path
    epochs_run: int
    best_epoch: int
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}
