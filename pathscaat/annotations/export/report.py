"""A self-contained HTML report of a slide's regions, for reading on screen or printing.

One file, images inlined as base64 JPEG: a slide thumbnail with every region outlined in
its class colour and numbered, the tables of :mod:`report_tables` (every annotation, one
row, numbered as on the thumbnail and in the CSV; its measurements from each overlay set
in tables narrow enough for A4), then a card per region with its crop outlined and,
given an overlay set with saliency, the crop with the saliency blended over it. Print
CSS sets A4 pages, keeps the thumbnail on the first page and each card on one page.
Crops are shown for the first ``max_crops`` regions; the tables always list all of them.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from pathscaat import __version__
from pathscaat.annotations.export.crops import blend_saliency, draw_outline, read_crop
from pathscaat.annotations.export.report_tables import measurement_sections
from pathscaat.annotations.model import Annotation
from pathscaat.annotations.overlay_rasters import OverlayRasters
from pathscaat.atomic import write_atomic
from pathscaat.progress import (
    JobCancelled,
    OnProgress,
    ProgressRecord,
    ShouldStop,
    never_stop,
    no_progress,
)

THUMB_PX = 1400
CARD_PX = 360
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin:1.2em 0 .3em;break-after:avoid} .meta{color:#555}
img{max-width:100%} figure{margin:1em 0}
table{border-collapse:collapse;font-size:12px;margin:.6em 0;max-width:100%}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right;vertical-align:top}
th{background:#f3f3f3;font-weight:600} td.t,th.t{text-align:left} td.n,th.n{color:#555}
td small{color:#666}
.sw{display:inline-block;width:.9em;height:.9em;border:1px solid #444;vertical-align:middle}
.cards{display:flex;flex-wrap:wrap;gap:1em}
.card{border:1px solid #ccc;padding:.5em;break-inside:avoid;page-break-inside:avoid;
max-width:100%;box-sizing:border-box}
.card img{height:auto;max-height:360px} .card.pair img{max-width:calc(50% - 4px)}
.card h3{margin:.2em 0;font-size:1em}
@page{size:A4;margin:12mm}
@media print{body{margin:0;font-size:12px} .card{border-color:#999}
figure img{max-height:200mm;width:auto} table{font-size:10px} tr{break-inside:avoid}}
"""


def _data_uri(rgb: NDArray[np.uint8], quality: int = 85) -> str:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(rgb: NDArray[np.uint8], alt: str) -> str:
    return f'<img src="{_data_uri(rgb)}" alt="{html.escape(alt)}">'


def thumbnail_with_outlines(slide: Any, annotations: Sequence[Annotation]) -> NDArray[np.uint8]:
    """The slide's thumbnail with each annotation outlined in its colour and numbered."""
    thumb = Image.fromarray(slide.thumbnail(THUMB_PX))
    scale = thumb.size[0] / slide.dimensions[0]
    draw = ImageDraw.Draw(thumb)
    font = ImageFont.load_default(size=max(14, thumb.size[0] // 60))
    for number, ann in enumerate(annotations, start=1):
        colour = tuple(ann.path_class.colour) if ann.path_class else (255, 200, 0)
        geom = ann.geometry
        for part in getattr(geom, "geoms", [geom]):
            rings = [part.exterior, *part.interiors] if hasattr(part, "exterior") else [part]
            for ring in rings:
                pts = [(x * scale, y * scale) for x, y, *_ in ring.coords]
                if len(pts) > 1:
                    draw.line(pts, fill=colour, width=2)
                else:
                    x, y = pts[0]
                    draw.ellipse((x - 3, y - 3, x + 3, y + 3), outline=colour, width=2)
        if not geom.is_empty:
            at = geom.representative_point()
            draw.text((at.x * scale, at.y * scale), str(number), fill=(0, 0, 0), font=font,
                      anchor="mm", stroke_width=3, stroke_fill=(255, 255, 255))  # fmt: skip
    return np.asarray(thumb.convert("RGB"))


def _card(slide: Any, number: int, ann: Annotation, min_downsample: float, rasters: Any) -> str:
    minx, miny, maxx, maxy = ann.l0_bounds
    downsample = max(min_downsample, max(maxx - minx, maxy - miny) / CARD_PX)
    crop = read_crop(slide, ann, downsample)
    images = [_img(draw_outline(crop, ann), f"region {number}")]
    sal = blend_saliency(crop, rasters) if rasters is not None else None
    if sal is not None:
        images.append(_img(sal, f"region {number} saliency"))  # no outline: it would hide it
    title = html.escape(f"#{number} {ann.class_name or 'unclassified'} {ann.name or ''}")
    pair = " pair" if len(images) > 1 else ""
    return (f'<div class="card{pair}" id="region-{number}"><h3>{title}</h3>'
            f'{"".join(images)}</div>')  # fmt: skip


def write_report(
    path: str | Path,
    slide: Any,
    annotations: Iterable[Annotation],
    *,
    overlays: OverlayRasters | None = None,
    max_crops: int = 100,
    title: str | None = None,
    on_progress: OnProgress = no_progress,
    should_stop: ShouldStop = never_stop,
) -> Path:
    """Write the report of ``annotations`` on the open ``slide`` to ``path`` (HTML)."""
    anns = list(annotations)
    mpp = slide.mpp.x if slide.mpp else None
    areas = [a for a in anns if a.geometry.area > 0][:max_crops]
    on_progress(ProgressRecord("report", 0, len(areas) + 1, "thumbnail"))
    parts = [_head(slide, anns, mpp, title, overlays), "<figure>",
             _img(thumbnail_with_outlines(slide, anns), "slide thumbnail with the regions"),
             "<figcaption>Regions outlined in their class colour, numbered as in the table."
             "</figcaption></figure>", measurement_sections(anns, mpp),
             '<h2>Crops</h2><div class="cards">']  # fmt: skip
    numbers = {a.id: n for n, a in enumerate(anns, start=1)}
    for i, ann in enumerate(areas, start=1):
        if should_stop():
            raise JobCancelled("report stopped; run it again (the report is written at the end)")
        parts.append(_card(slide, numbers[ann.id], ann, 1.0, overlays))
        on_progress(ProgressRecord("report", i, len(areas) + 1))
    parts.append("</div>")
    if len(areas) < sum(a.geometry.area > 0 for a in anns):
        parts.append(f"<p>Crops of the first {max_crops} regions; the table lists all.</p>")
    parts.append("</body></html>")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, "\n".join(parts))
    on_progress(ProgressRecord("report", len(areas) + 1, len(areas) + 1, str(target)))
    return target


def _head(
    slide: Any, anns: Sequence[Annotation], mpp: float | None, title: str | None,
    overlays: OverlayRasters | None = None,
) -> str:  # fmt: skip
    from pathscaat.slides.mpp import describe_source

    name = html.escape(title or f"Regions of {Path(slide.path).name}")
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    mpp_text = (f"{mpp:.4g} µm/px from {describe_source(slide.mpp.source)}" if mpp
                else "no µm/px (areas unknown)")  # fmt: skip
    w, h = slide.dimensions
    run = ""
    if overlays is not None:
        run = (f'<p class="meta">Model overlays ({html.escape(str(overlays.overlays.root))}): '
               f"{html.escape(overlays.overlays.scale_text)}.</p>")  # fmt: skip
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
        f"<style>{STYLE}</style></head><body><h1>{name}</h1>"
        f'<p class="meta">{html.escape(str(slide.path))}: {w} x {h} px at level 0, '
        f"{html.escape(mpp_text)}; {len(anns)} annotations. Made {when} by PathSCAAT "
        f"{__version__}.</p>{run}"
    )
