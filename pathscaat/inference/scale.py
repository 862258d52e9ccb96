"""The scale a slide is scored at, where its µm/px came from, and the refusal to guess it.

A model knows one field of view: ``input_px`` pixels at its µm/px. Read at another scale it
sees other structures (a quarter of its field at level 0 of a 0.25 µm/px scan for a
1 µm/px model) and answers with confidence all the same, so a run never guesses: a slide
without µm/px under a model that records one is refused with the remedy, and every run
states its scale and the source of the slide's µm/px (:class:`RunScale`, saved in
``overlays.json`` as ``scale``).

Sources of the slide's level-0 µm/px (``SlideMpp.source``):

- ``metadata``: the file, through the fallback chain of ``pathscaat.slides.mpp``
  (``detail`` names the step: ``openslide``, ``vendor:aperio.MPP``, ``objective-power``...);
- ``user``: set by the user in the app for this session;
- ``project``: the project's saved override for that slide;
- ``flag``: ``--slide-mpp`` on the command line;
- ``none``: unknown.

Torch-free: the app reads a checkpoint's scale with :func:`checkpoint_scale` before a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathscaat.progress import PathscaatError
from pathscaat.slides.mpp import chain_step_text

SOURCE_TEXT = {
    "metadata": "from the slide metadata",
    "user": "user-set in the app",
    "project": "the project's saved override",
    "flag": "given with the --slide-mpp flag",
    "none": "unknown",
}
"""How each source of a slide's µm/px is named in run records, legends and reports."""

MPP_REMEDY = (
    "Pass the slide's µm/px with --slide-mpp (0.25 is typical of a 40× scan, 0.5 of 20×), "
    "or in the app set it with Set µm/px… in the Slide panel."
)


class MissingScaleError(PathscaatError):
    """A model that records its µm/px, a slide that does not: refused rather than guessed."""


@dataclass(frozen=True)
class SlideMpp:
    """A slide's level-0 µm/px as a run uses it (``um`` None: unknown) and its source."""

    um: float | None
    source: str = "none"
    detail: str = ""

    @classmethod
    def of_slide(cls, slide: Any, given: float | None = None, given_source: str = "flag",
                 *, only_if_missing: bool = False) -> SlideMpp:  # fmt: skip
        """The µm/px a run on ``slide`` uses: ``given`` (from ``given_source``) over the
        file's own, or only where the file has none when ``only_if_missing``."""
        native = slide.native_mpp
        if given is not None and not (only_if_missing and native is not None):
            if given <= 0:
                raise PathscaatError(f"the slide's µm/px must be positive (got {given})")
            said = f"the file says {native.x:.4g}" if native is not None else ""
            return cls(float(given), given_source, said)
        if native is None:
            return cls(None, "none")
        return cls(float(native.x), "metadata", chain_step_text(native.source))

    def describe(self) -> str:
        """``0.499 µm/px, from the slide metadata (OpenSlide)`` or ``unknown µm/px``."""
        if self.um is None:
            return "unknown µm/px"
        return f"{self.um:.4g} µm/px, {self.source_text()}"

    def source_text(self) -> str:
        """``from the slide metadata (OpenSlide)``, ``the project's saved override``..."""
        source = SOURCE_TEXT.get(self.source, self.source)
        return f"{source} ({self.detail})" if self.detail else source


@dataclass(frozen=True)
class RunScale:
    """What a run read: the slide's µm/px and source, the model's, the tiles' side."""

    slide: SlideMpp
    model_mpp: float | None
    input_px: int
    l0_tile_px: float

    @property
    def read_mpp(self) -> float | None:
        """µm/px of the tiles the model saw (slide µm/px x level-0 px per input px)."""
        if self.slide.um is None:
            return None
        return self.slide.um * self.l0_tile_px / self.input_px

    @property
    def field_um(self) -> float | None:
        """Side of one tile in µm of tissue."""
        return None if self.slide.um is None else self.slide.um * self.l0_tile_px

    def describe(self) -> str:
        """One sentence for run records, legends and reports."""
        read, field, slide_um = self.read_mpp, self.field_um, self.slide.um
        if read is None or field is None or slide_um is None:
            return (
                "tiles read at level 0, µm/px unknown: neither the slide nor the model records one"
            )
        source = f"slide {self.slide.describe()}"
        if self.model_mpp:
            return f"tiles read at {read:.3g} µm/px, the model's ({field:.0f} µm each); {source}"
        return (
            f"tiles read at level 0, {read:.3g} µm/px ({field:.0f} µm each): the model "
            f"records no µm/px, so this may not be its training scale; {source}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "slide_mpp": self.slide.um, "slide_mpp_source": self.slide.source,
            "slide_mpp_detail": self.slide.detail, "model_mpp": self.model_mpp,
            "input_px": self.input_px, "l0_tile_px": self.l0_tile_px,
            "read_mpp": self.read_mpp, "field_um": self.field_um, "text": self.describe(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunScale:
        slide = SlideMpp(_num(data.get("slide_mpp")), str(data.get("slide_mpp_source", "none")),
                         str(data.get("slide_mpp_detail", "")))  # fmt: skip
        return cls(slide, _num(data.get("model_mpp")), int(data.get("input_px", 0) or 0),
                   float(data.get("l0_tile_px", 0) or 0))  # fmt: skip


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def require_scale(slide_path: str | Path, slide_mpp: SlideMpp, model: ModelScale) -> None:
    """Refuse a slide without µm/px under a model that records one (see the module doc)."""
    if model.mpp is None or slide_mpp.um is not None:
        return
    raise MissingScaleError(
        f"{Path(slide_path).name}: the slide does not record its µm/px, and the model was "
        f"trained at {model.mpp:.3g} µm/px ({model.describe_field()}). Scored at another scale "
        "it gives wrong answers that look as confident as right ones, so it was not run. "
        f"{MPP_REMEDY}"
    )


def no_tiles_message(
    slide_path: str | Path, scale: RunScale, slide_dims: tuple[int, int], min_tissue: float
) -> str:
    """Why a grid is empty, with remedies the user can reach in the app and the CLI."""
    field = scale.field_um
    tile = f"{field:.0f} × {field:.0f} µm" if field else f"{scale.l0_tile_px:.0f} px at level 0"
    text = (f"{Path(slide_path).name}: no tissue tiles to score: each tile covers {tile} and "
            f"none has at least {min_tissue:.0%} tissue. Lower the minimum tissue (Minimum "
            "tissue in the app's Run dialog, --min-tissue on the command line), or check that "
            "the slide shows tissue")  # fmt: skip
    if scale.l0_tile_px > min(slide_dims) / 2:
        w, h = slide_dims
        size = (f"{w * scale.slide.um / 1000:.3g} × {h * scale.slide.um / 1000:.3g} mm"
                if scale.slide.um else f"{w} × {h} px")  # fmt: skip
        how = "larger than" if scale.l0_tile_px > min(slide_dims) else "large for"
        text += f". The model's tile is {how} the whole slide ({size})"
        if field and field > LARGE_FIELD_UM:
            text += (
                ": it was trained on very large fields of view; retrain it with smaller "
                "patches or a larger input size (the wizard's Model page shows the field of view)"
            )
    return text + "."


@dataclass(frozen=True)
class ModelScale:
    """A checkpoint's scale: its input µm/px (None: not recorded) and input side."""

    mpp: float | None
    input_px: int

    @property
    def field_um(self) -> float | None:
        return None if self.mpp is None else self.mpp * self.input_px

    def describe_field(self) -> str:
        """``96 px = 74 µm tiles`` (or the input side alone without a µm/px)."""
        field = self.field_um
        side = f"{self.input_px} px"
        return f"{side} = {field:.0f} µm tiles" if field else f"{side} tiles"

    def describe(self) -> str:
        if self.mpp is None:
            return f"no recorded µm/px ({self.input_px} px input): tiles are read at level 0"
        return f"{self.mpp:.3g} µm/px, {self.describe_field()}"


def checkpoint_scale(path: str | Path) -> ModelScale | None:
    """The scale in a checkpoint's JSON (stem, .json or .safetensors); None if unreadable
    (the run itself then reports the checkpoint in its own words)."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    try:
        data = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        return ModelScale(_num(data.get("mpp")), int(data["input_px"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


USUAL_MPP_UM = (0.25, 2.0)
"""The µm/px most pathology models read: a 40× scan (0.25) to a 5× view (2)."""

LARGE_FIELD_UM = 1000.0
"""A tile side beyond which many slides (biopsies, small fragments) hold no whole tile."""


def scale_warnings(model: ModelScale) -> list[tuple[str, str]]:
    """What a pathologist should hear about a model's scale before training or running it,
    as (kind, sentence): ``coarse`` / ``fine`` outside :data:`USUAL_MPP_UM`, ``large`` for a
    field of view above :data:`LARGE_FIELD_UM`. Each face adds the remedy it can offer."""
    if model.mpp is None or model.field_um is None:
        return []
    warnings = []
    low, high = USUAL_MPP_UM
    if model.mpp > high:
        warnings.append(("coarse", (
            f"{model.mpp:.3g} µm/px is far coarser than the usual {low:g}–{high:g} µm/px (40× "
            f"to 5× scans): a nucleus of 8 µm is {8 / model.mpp:.1f} px wide at this scale."
        )))  # fmt: skip
    elif model.mpp < low:
        warnings.append(("fine", (
            f"{model.mpp:.3g} µm/px is finer than a 40× scan ({low:g} µm/px): the patches are "
            "enlarged to the input size, which adds no detail and costs time."
        )))  # fmt: skip
    if model.field_um > LARGE_FIELD_UM:
        mm = model.field_um / 1000
        warnings.append(("large", (
            f"Each tile covers {mm:.3g} × {mm:.3g} mm of tissue, more than many biopsies hold: "
            "small slides may give no tile with enough tissue to score."
        )))  # fmt: skip
    return warnings
