"""Names of starting points that torch-free code (the CLI's ``--help``, the wizard, the
run settings) needs without importing the models package: see
:mod:`pathscaat.models.starting_weights`."""

RANDOM = "random"
DEFAULT_WEIGHTS = "imagenet:efficientnet_lite0"
DEFAULT_BACKBONE = "tf_efficientnet_lite0"
IMAGENET_PREFIX = "imagenet:"


def bundled_architecture(spec: object) -> str | None:
    """The timm model a bundled ImageNet start is for (``tf_efficientnet_lite0``), else None."""
    text = str(spec or "")
    return "tf_" + text.removeprefix(IMAGENET_PREFIX) if text.startswith(IMAGENET_PREFIX) else None


def is_pretrained(spec: object) -> bool:
    """Whether a weights spec starts from anything but random weights (None = random)."""
    return spec is not None and str(spec).strip() not in ("", RANDOM)
