"""Real Kather tiles, few and small: fast training tests on real H&E (shared by test files)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

CLASSES = ("ADI", "LYM", "TUM")


def write_tiny_kather(source: Path, out: Path, per_class: int = 8, px: int = 40) -> Path:
    """Downsize the first ``per_class`` tiles of three classes to ``px`` PNGs under ``out``."""
    for cls in CLASSES:
        (out / cls).mkdir(parents=True, exist_ok=True)
        for f in sorted((source / cls).iterdir())[:per_class]:
            with Image.open(f) as im:
                im.convert("RGB").resize((px, px), Image.BILINEAR).save(out / cls / f"{f.stem}.png")
    return out
