"""Damaged copies of the real slides: every reader quirk is a clean ``SlideError``.

Each mutation (a truncation, flipped header bits, a zeroed block; seeded) is written to
tmp_path and taken through open, metadata, associated images, a thumbnail, a read of every
level, and the ``info`` and ``tiles`` commands. The only allowed outcomes are valid output
or one clear error naming the file; a bare ``KeyError`` from OpenSlide's properties was
what a flipped NDPI header used to give.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pathscaat.cli.main import main
from pathscaat.slides import CorruptSlideError, Slide, SlideError, open_slide, registry
from pathscaat.slides.base import RGBArray, SlideMetadata, StoredSlide

Mutation = Callable[[bytes, random.Random], bytes]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(16, len(data))]


def flip_header_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        out[rng.randrange(0, min(len(out), 64 * 1024))] ^= 1 << rng.randrange(8)
    return bytes(out)


def zero_block(data: bytes, rng: random.Random) -> bytes:
    start, n = rng.randrange(0, len(data)), rng.randint(64, 64 * 1024)
    return data[:start] + bytes(len(data[start:start + n])) + data[start + n:]


def undecodable_property_key(data: bytes, rng: random.Random) -> bytes:
    """The NDPI case from issue 11: a key OpenSlide lists but its lookup refuses."""
    at = data.find(b"AHEX[")
    if at < 0:
        return flip_header_bits(data, rng)
    out = bytearray(data)
    out[at + 5] ^= 0x80
    return bytes(out)


MUTATIONS: list[tuple[str, Mutation, int]] = [
    ("truncate", truncate, 0), ("truncate", truncate, 1),
    ("flip", flip_header_bits, 0), ("flip", flip_header_bits, 3),
    ("zero", zero_block, 0), ("zero", zero_block, 2),
    ("key", undecodable_property_key, 0),
]  # fmt: skip


def _mutated(src: Path, tmp_path: Path, name: str, mutate: Mutation, seed: int) -> Path:
    path = tmp_path / f"{name}{seed}-{src.name}"
    path.write_bytes(mutate(src.read_bytes(), random.Random(seed)))
    return path


def _exercise(path: Path) -> None:
    """Everything a user's first look at a slide does."""
    with open_slide(path) as slide:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in slide.properties.items())
        dict(slide.associated_images)
        assert slide.thumbnail(256).dtype == np.uint8
        w, h = slide.dimensions
        for level in range(slide.level_count):
            tile = slide.read_region((w // 3, h // 3), level, (96, 96))
            assert tile.shape == (96, 96, 3)


def _clean_error(exc: SlideError, path: Path) -> None:
    assert exc.path == path and str(path) in str(exc)
    assert "\n" not in str(exc)


@pytest.mark.parametrize("name,mutate,seed", MUTATIONS, ids=[f"{m[0]}{m[2]}" for m in MUTATIONS])
def test_damaged_copies_open_and_read_cleanly(
    real_slides: list[Path], tmp_path: Path, name: str, mutate: Mutation, seed: int
) -> None:
    for src in real_slides:
        path = _mutated(src, tmp_path, name, mutate, seed)
        try:
            _exercise(path)
        except SlideError as exc:
            _clean_error(exc, path)


@pytest.mark.parametrize("name,mutate,seed", MUTATIONS, ids=[f"{m[0]}{m[2]}" for m in MUTATIONS])
def test_damaged_copies_through_info_and_tiles(
    real_slides: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    name: str, mutate: Mutation, seed: int,
) -> None:
    for src in real_slides:
        path = _mutated(src, tmp_path, name, mutate, seed)
        out = tmp_path / f"tiles-{path.stem}"
        for argv in (["info", str(path)],
                     ["tiles", str(path), "--out", str(out), "--downsample", "8",
                      "--progress", "none"]):
            rc = main(argv)
            err = capsys.readouterr().err
            assert rc in (0, 1), (argv, err)
            if rc == 1:
                assert err.startswith("pathscaat: error: ") and str(path) in err, err
                assert "Traceback" not in err


def test_unreadable_property_key_is_left_out(dapi_ndpi: Path, tmp_path: Path) -> None:
    path = _mutated(dapi_ndpi, tmp_path, "key", undecodable_property_key, 0)
    with open_slide(path) as slide:
        assert slide.vendor == "hamamatsu" and slide.mpp is not None
        assert not any("AHEX[\ufffd" in key for key in slide.properties)
        assert len(slide.properties) > 20


class _QuirkySlide(StoredSlide):
    """A backend with a reader quirk: opening or reading raises what no backend maps."""

    backend_name = "quirky"

    def __init__(self, path: Path, fail_open: bool) -> None:
        super().__init__(path)
        if fail_open:
            raise KeyError("no such tag")
        self._meta = SlideMetadata.from_properties(((64, 64),), (1.0,), {})

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]
                     ) -> RGBArray:
        raise IndexError("tile index out of range")


@pytest.mark.parametrize("fail_open", [True, False])
def test_unexpected_exception_in_any_backend_is_corrupt_slide_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_open: bool
) -> None:
    path = tmp_path / "odd.xyz"
    path.write_bytes(b"quirk")

    def open_quirky(p: Path) -> Slide:
        return _QuirkySlide(p, fail_open)

    quirky = registry.Backend("quirky", lambda p: "quirk", open_quirky)
    monkeypatch.setattr(registry, "BACKENDS", [quirky, *registry.BACKENDS])
    with pytest.raises(CorruptSlideError) as info, open_slide(path) as slide:
        slide.read_region((0, 0), 0, (8, 8))
    assert isinstance(info.value.__cause__, KeyError if fail_open else IndexError)
    assert str(path) in str(info.value) and "damaged" in str(info.value)
