"""open_slide on generated pyramids and images, and on damaged files: each gives its typed error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from pathscaat.slides import (
    CorruptSlideError,
    Mpp,
    SlideNotFoundError,
    SlidePermissionError,
    UnsupportedSlideError,
    open_slide,
)
from pathscaat.slides.mpp import resolve_mpp

REPO_ROOT = Path(__file__).resolve().parents[2]


def _rgb_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Flat colour blocks of 32 px (JPEG-friendly, so lossy levels stay comparable)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 226, size=(h // 32 + 1, w // 32 + 1, 3), dtype=np.uint8)
    return np.repeat(np.repeat(coarse, 32, axis=0), 32, axis=1)[:h, :w]


def _write_pyramid(path: Path, img: np.ndarray, *, levels: int = 3, subifds: bool = True,
                   compression: str = "jpeg", mpp_um: float | None = None,
                   photometric: str = "rgb") -> Path:
    """Pyramid of 2x subsampled levels, as SubIFDs or as reduced pages."""
    px_per_cm = None if mpp_um is None else 1e4 / mpp_um
    with tifffile.TiffWriter(path) as tw:
        tw.write(img, tile=(128, 128), compression=compression, photometric=photometric,
                 subifds=levels - 1 if subifds else None,
                 resolution=None if px_per_cm is None else (px_per_cm, px_per_cm),
                 resolutionunit="CENTIMETER" if px_per_cm else None)
        for k in range(1, levels):
            f = 2**k
            tw.write(img[::f, ::f], tile=(128, 128), compression=compression,
                     photometric=photometric, subfiletype=1)
    return path


# -- pyramids and images that open -------------------------------------------------------

def test_tiled_jpeg_pyramid_with_resolution(tmp_path: Path) -> None:
    img = _rgb_image(900, 1300)
    path = _write_pyramid(tmp_path / "pyr.tif", img, mpp_um=0.5)
    with open_slide(path) as slide:
        assert slide.backend_name == "tifffile"  # SubIFD levels: OpenSlide would see one
        assert slide.level_dimensions == ((1300, 900), (650, 450), (325, 225))
        assert slide.level_downsamples == pytest.approx((1.0, 2.0, 4.0))
        assert slide.mpp is not None
        assert (slide.mpp.x, slide.mpp.y, slide.mpp.source) == (
            pytest.approx(0.5), pytest.approx(0.5), "tiff-resolution")
        region = slide.read_region((200, 120), 1, (300, 100))
        stored = tifffile.imread(path, series=0, level=1)  # the whole level, decoded
        np.testing.assert_array_equal(region, stored[60:160, 100:400])
        expected = img[::2, ::2][60:160, 100:400].astype(int)
        assert np.abs(region.astype(int) - expected).mean() < 6  # JPEG is lossy
        edge = slide.read_region((1200, 800), 0, (200, 200))
        assert (edge[100:, :] == 255).all() and (edge[:, 100:] == 255).all()


def test_page_pyramid_without_tags_then_user_mpp(tmp_path: Path) -> None:
    img = _rgb_image(700, 500, seed=1)
    path = _write_pyramid(tmp_path / "pages.tif", img, subifds=False, compression="zlib")
    with open_slide(path) as slide:
        assert slide.level_count == 3
        assert slide.mpp is None
        np.testing.assert_array_equal(slide.read_region((64, 32), 2, (50, 40)),
                                      img[::4, ::4][8:48, 16:66])
        slide.set_mpp(0.3)
        assert slide.mpp == Mpp(0.3, 0.3, "user")
    with open_slide(path, mpp_override=0.26) as slide:
        assert slide.mpp == Mpp(0.26, 0.26, "user")


def test_grey_uint8_pyramid_becomes_grey_rgb(tmp_path: Path) -> None:
    grey = _rgb_image(600, 520)[..., 0]
    path = _write_pyramid(tmp_path / "grey.tif", grey, compression="zlib",
                          photometric="minisblack")
    with open_slide(path) as slide:
        region = slide.read_region((0, 0), 1, (260, 300))
    assert region.shape == (300, 260, 3)
    for c in range(3):
        np.testing.assert_array_equal(region[..., c], grey[::2, ::2])


def test_ome_tiff_uint16_with_physical_size(tmp_path: Path) -> None:
    data = (np.arange(512 * 384, dtype=np.uint32).reshape(384, 512) * 97 % 65536).astype(
        np.uint16)
    path = tmp_path / "img.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(data, tile=(128, 128), subifds=1, metadata={
            "axes": "YX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25,
            "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"})
        tw.write(data[::2, ::2], tile=(128, 128), subfiletype=1)
    with open_slide(path) as slide:
        assert (slide.backend_name, slide.vendor) == ("tifffile", "ome-tiff")
        assert slide.level_dimensions == ((512, 384), (256, 192))
        assert slide.mpp == Mpp(0.25, 0.25, "vendor:ome.PhysicalSizeX")
        region = slide.read_region((0, 0), 0, (512, 384))
    np.testing.assert_array_equal(region[..., 1], np.rint(data / 257.0).astype(np.uint8))


def test_planar_and_stripped_tiffs_read_exactly(tmp_path: Path) -> None:
    img = np.random.default_rng(4).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    planar = tmp_path / "planar.tif"
    with tifffile.TiffWriter(planar) as tw:  # one tile per colour plane
        tw.write(np.moveaxis(img, -1, 0), tile=(128, 128), planarconfig="separate",
                 photometric="rgb", compression="zlib", subifds=1)
        tw.write(np.moveaxis(img[::2, ::2], -1, 0), tile=(128, 128), planarconfig="separate",
                 photometric="rgb", compression="zlib", subfiletype=1)
    with open_slide(planar) as slide:
        assert slide.backend_name == "tifffile"
        np.testing.assert_array_equal(slide.read_region((50, 60), 0, (300, 200)),
                                      img[60:260, 50:350])
        np.testing.assert_array_equal(slide.read_region((50, 60), 1, (100, 80)),
                                      img[::2, ::2][30:110, 25:125])
    stripped = tmp_path / "strips.tif"  # not tiled: OpenSlide declines it
    tifffile.imwrite(stripped, img, rowsperstrip=7, photometric="rgb")
    with open_slide(stripped) as slide:
        assert slide.backend_name == "tifffile"
        np.testing.assert_array_equal(slide.read_region((10, 20), 0, (390, 280)),
                                      img[20:300, 10:400])


def test_rgba_transparent_is_white(tmp_path: Path) -> None:
    rgba = np.zeros((256, 256, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 128:, 3] = 255  # right half opaque red, left half transparent
    path = _write_pyramid(tmp_path / "rgba.tif", rgba, levels=2, compression="zlib",
                          photometric="rgb")
    with open_slide(path) as slide:
        region = slide.read_region((0, 0), 0, (256, 256))
    assert (region[:, :128] == 255).all()
    assert (region[:, 128:] == (200, 0, 0)).all()


def test_png_is_a_one_level_slide(tmp_path: Path) -> None:
    img = _rgb_image(120, 90, seed=3)
    path = tmp_path / "patch.png"
    Image.fromarray(img).save(path, dpi=(50800, 50800))  # 0.5 µm/px
    with open_slide(path) as slide:
        assert (slide.backend_name, slide.vendor) == ("image", "image-png")
        assert slide.level_dimensions == ((90, 120),)
        assert slide.mpp is not None and slide.mpp.source == "tiff-resolution"
        assert slide.mpp.x == pytest.approx(0.5, rel=1e-3)
        np.testing.assert_array_equal(slide.read_region((0, 0), 0, (90, 120)), img)
        straddle = slide.read_region((80, 110), 0, (20, 20))
        np.testing.assert_array_equal(straddle[:10, :10], img[110:, 80:])
        assert (straddle[10:] == 255).all()
        assert slide.thumbnail(45).shape == (45, 34, 3)


def test_jpeg_without_dpi_has_no_mpp(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(_rgb_image(64, 80)).save(path, quality=95)
    with open_slide(path) as slide:
        assert slide.backend_name == "image" and slide.level_count == 1


# -- the mpp fallback chain ---------------------------------------------------------------

@pytest.mark.parametrize(("props", "expected"), [
    ({"openslide.mpp-x": "0.25", "openslide.mpp-y": "0.26", "aperio.MPP": "9"},
     (0.25, 0.26, "openslide")),
    ({"aperio.MPP": "0.4990"}, (0.499, 0.499, "vendor:aperio.MPP")),
    ({"tiff.XResolution": "20000", "tiff.ResolutionUnit": "centimeter"},
     (0.5, 0.5, "tiff-resolution")),
    ({"tiff.XResolution": "101600", "tiff.YResolution": "50800", "tiff.ResolutionUnit": "inch"},
     (0.25, 0.5, "tiff-resolution")),
    ({"aperio.AppMag": "40"}, (0.25, 0.25, "objective-power")),
])
def test_mpp_chain(props: dict[str, str], expected: tuple[float, float, str]) -> None:
    mpp = resolve_mpp(props)
    assert mpp is not None
    assert (mpp.x, mpp.y, mpp.source) == (pytest.approx(expected[0]), pytest.approx(expected[1]),
                                          expected[2])
    if mpp.source == "objective-power":
        assert "assumed" in mpp.note


@pytest.mark.parametrize("props", [
    {},
    {"tiff.XResolution": "72", "tiff.ResolutionUnit": "inch"},  # screen default, not a scan
    {"tiff.XResolution": "20000", "tiff.ResolutionUnit": "none"},
    {"openslide.mpp-x": "nan"},
])
def test_mpp_chain_never_guesses(props: dict[str, str]) -> None:
    assert resolve_mpp(props) is None


# -- files that must fail, each with its own error ----------------------------------------

def _open_and_read_everything(path: Path) -> None:
    with open_slide(path) as slide:
        dict(slide.associated_images)
        for level, (w, h) in enumerate(slide.level_dimensions):
            slide.read_region((0, 0), level, (w, h))


@pytest.mark.parametrize("cut", [100_000, 1_300_000, 1_930_000])
def test_truncated_svs_is_corrupt(cmu_svs: Path, tmp_path: Path, cut: int) -> None:
    bad = tmp_path / "cut.svs"
    bad.write_bytes(cmu_svs.read_bytes()[:cut])
    with pytest.raises(CorruptSlideError, match="truncated"):
        _open_and_read_everything(bad)


@pytest.mark.parametrize("subifds", [True, False], ids=["subifds", "pages"])
def test_truncated_pyramid_is_corrupt(tmp_path: Path, subifds: bool,
                                      caplog: pytest.LogCaptureFixture) -> None:
    path = _write_pyramid(tmp_path / "p.tif", _rgb_image(600, 600), compression="zlib",
                          subifds=subifds)
    data = path.read_bytes()
    for fraction in (0.1, 0.6, 0.95, 0.999):
        bad = tmp_path / f"cut{fraction}.tif"
        bad.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(CorruptSlideError, match=r"truncated|cannot read"):
            _open_and_read_everything(bad)
    assert not [r for r in caplog.records if r.name.startswith("tifffile")], \
        "damage is reported by the error alone, not by stray tifffile warnings"


def _damage_tile(path: Path, level_page: int, tile: int) -> None:
    with tifffile.TiffFile(path) as tf:
        page = tf.pages[level_page]
        offset, count = page.dataoffsets[tile], page.databytecounts[tile]
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xff\x00garbage" * (count // 9))


@pytest.mark.parametrize("subifds", [True, False], ids=["tifffile", "openslide"])
def test_damaged_tile_raises_only_where_read(tmp_path: Path, subifds: bool) -> None:
    """A bad tile fails the reads that need it; tiles elsewhere are read without it."""
    path = _write_pyramid(tmp_path / "d.tif", _rgb_image(512, 512), compression="zlib",
                          subifds=subifds)
    _damage_tile(path, 0, tile=15)  # bottom-right 128 px tile of level 0
    with open_slide(path) as slide:
        assert slide.backend_name == ("tifffile" if subifds else "openslide")
        assert slide.read_region((0, 0), 0, (256, 256)).shape == (256, 256, 3)
        with pytest.raises(CorruptSlideError):
            slide.read_region((300, 300), 0, (200, 200))
        if not subifds:
            # OpenSlide's handle is unusable after an error: later reads raise, never crash
            with pytest.raises(CorruptSlideError):
                slide.read_region((0, 0), 1, (64, 64))
        else:
            assert slide.read_region((0, 0), 1, (64, 64)).shape == (64, 64, 3)


def test_empty_file_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "empty.svs").touch()
    with pytest.raises(CorruptSlideError, match="empty"):
        open_slide(tmp_path / "empty.svs")


def test_random_bytes_named_svs_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "noise.svs"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, np.uint8).tobytes())
    with pytest.raises(CorruptSlideError):
        open_slide(path)


def test_text_file_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a slide\n" * 50)
    with pytest.raises(UnsupportedSlideError):
        open_slide(path)


def test_missing_path_and_folder_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(SlideNotFoundError, match="no such file"):
        open_slide(tmp_path / "nope.svs")
    with pytest.raises(SlideNotFoundError, match="folder"):
        open_slide(tmp_path)


def test_unreadable_file_is_permission_error(tmp_path: Path) -> None:
    """Root reads anything, so as root the check runs in a child without the capabilities
    that bypass file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), via util-linux setpriv."""
    path = tmp_path / "locked.svs"
    path.write_bytes(b"II*\x00" + b"\x00" * 64)
    path.chmod(0o000)
    if os.geteuid() != 0:
        with pytest.raises(SlidePermissionError, match="permission denied"):
            open_slide(path)
        return
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and util-linux setpriv is absent: chmod cannot deny reads")
    code = ("import sys; from pathscaat.slides import open_slide, SlidePermissionError\n"
            "try:\n    open_slide(sys.argv[1])\nexcept SlidePermissionError as exc:\n"
            "    print(exc); sys.exit(7)\n")
    proc = subprocess.run(
        [setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c",
         code, str(path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    if proc.returncode != 7 and "setpriv" in proc.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 7, proc.stderr
    assert "permission denied" in proc.stdout
