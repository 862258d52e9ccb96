"""timm backbone factory (RGB in [0,1], normalisation inside) and the checkpoint format."""

from pathscaat.models.checkpoint import (
    CheckpointMeta,
    checkpoint_stem,
    load_checkpoint,
    read_meta,
    save_checkpoint,
)
from pathscaat.models.factory import (
    CURATED_BACKBONES,
    Normalize,
    PathscaatModel,
    create_model,
    unwrap,
)

__all__ = [
    "CURATED_BACKBONES",
    "CheckpointMeta",
    "Normalize",
    "PathscaatModel",
    "checkpoint_stem",
    "create_model",
    "load_checkpoint",
    "read_meta",
    "save_checkpoint",
    "unwrap",
]
