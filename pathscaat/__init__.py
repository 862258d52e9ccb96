"""PathSCAAT core: slides, tiling, SCAAT training, saliency and slide inference.

The top level is the researcher's entry point, in the spirit of ``openslide.open_slide``
and ``timm.create_model``::

    import pathscaat

    with pathscaat.open_slide("slide.svs") as slide:      # any format, one API
        tile = slide.read_region((0, 0), 0, (224, 224))   # H x W x 3 uint8 RGB
    config = pathscaat.TrainConfig(data="patches/", backbone="resnet18",
                                   scaat=pathscaat.ScaatConfig.for_objective("scaat"))
    result = pathscaat.train(config)                       # best/last checkpoints
    model, meta = pathscaat.load_checkpoint(result.best)
    pathscaat.evaluate([result.best], "patches/", ["vanilla"], "evaluation/")
    pathscaat.predict_slide("slide.svs", result.best, "overlays/")
    regions = pathscaat.read_annotations("qupath.geojson").annotations  # level-0 px

Names are imported on first use (module ``__getattr__``), so ``import pathscaat`` loads
neither torch nor any reader: it stays fast, and Qt-free like the whole core (the desktop
app and the command line are two faces over it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # slides
    "open_slide": "pathscaat.slides",
    # models
    "create_model": "pathscaat.models",
    "load_checkpoint": "pathscaat.models",
    # training
    "train": "pathscaat.training",
    "TrainConfig": "pathscaat.training",
    "ScaatConfig": "pathscaat.training",
    # evaluation and slide inference
    "evaluate": "pathscaat.evaluation",
    "predict_slide": "pathscaat.inference.predict",
    # errors a script may catch: what happened and what to do, in one message
    "PathscaatError": "pathscaat.progress",
    "SlideError": "pathscaat.slides",
    # annotations: QuPath GeoJSON, ASAP / ImageScope XML, vertex CSV, by extension
    "read_annotations": "pathscaat.annotations.io",
    "write_annotations": "pathscaat.annotations.io",
}

__all__ = [
    "PathscaatError",
    "ScaatConfig",
    "SlideError",
    "TrainConfig",
    "__version__",
    "create_model",
    "evaluate",
    "load_checkpoint",
    "open_slide",
    "predict_slide",
    "read_annotations",
    "train",
    "write_annotations",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from pathscaat.annotations.io import read_annotations, write_annotations
    from pathscaat.evaluation import evaluate
    from pathscaat.inference.predict import predict_slide
    from pathscaat.models import create_model, load_checkpoint
    from pathscaat.progress import PathscaatError
    from pathscaat.slides import SlideError, open_slide
    from pathscaat.training import ScaatConfig, TrainConfig, train


def __getattr__(name: str) -> Any:
    """Import a top-level name's module on first use and cache the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pathscaat' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public top level (and the sub-packages already imported)."""
    loaded = [k for k, v in globals().items() if getattr(v, "__package__", None) == __name__]
    return sorted({*__all__, *loaded})
