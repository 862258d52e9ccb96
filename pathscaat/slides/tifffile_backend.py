"""tifffile backend: pyramidal and OME-TIFF that OpenSlide declines or misreads.

Covers pyramids stored as SubIFDs, as reduced-resolution pages (our own overlay rasters),
and as OME series levels; grey, grey+alpha, RGB, RGBA, and 16-bit or float pixels (scaled to
uint8 by their type's range). A multi-channel OME image shows its first channel in grey.

A read decodes only the tiles (or strips) that intersect the window, never a whole level.
File access (seek + read of the compressed bytes) is serialised by a lock; decoding, the
slow part, runs in parallel across threads.
"""

from __future__ import annotations

import math
import re
import struct
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

import numpy as np
import tifffile

from pathscaat.slides.base import RGBArray, Slide, SlideMetadata, StoredSlide
from pathscaat.slides.errors import CorruptSlideError, SlideError, UnsupportedSlideError
from pathscaat.slides.guard import ReadGuard
from pathscaat.slides.pixels import to_rgb, white

NAME = "tifffile"
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_MAX_IFDS = 100_000  # a loop in the chain must not hang the reader
_OME_UM = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6}


def detect(path: Path) -> str | None:
    """``tiff`` when the file starts with a (Big)TIFF header."""
    try:
        with open(path, "rb") as fh:
            return "tiff" if fh.read(4) in _TIFF_MAGIC else None
    except OSError:
        return None


class _Layout:
    """Byte layout of classic TIFF or BigTIFF directories."""

    def __init__(self, head: bytes) -> None:
        self.order = "<" if head[:2] == b"II" else ">"
        self.big = head[2:4] in (b"+\x00", b"\x00+")
        self.count_fmt, self.entry_bytes, self.off_fmt = (
            ("Q", 20, "Q") if self.big else ("H", 12, "I")
        )
        self.count_bytes = struct.calcsize(self.count_fmt)
        self.off_bytes = struct.calcsize(self.off_fmt)

    def unpack(self, fmt: str, data: bytes) -> tuple[int, ...]:
        return struct.unpack(self.order + fmt, data)


def _subifd_offsets(fh: BinaryIO, table: bytes, lay: _Layout) -> list[int]:
    """Offsets listed by the SubIFDs tag (330) of one directory's entry table."""
    for k in range(0, len(table) - lay.entry_bytes + 1, lay.entry_bytes):
        tag, typ = lay.unpack("HH", table[k : k + 4])
        if tag != 330:
            continue
        count = lay.unpack(lay.off_fmt, table[k + 4 : k + 4 + lay.off_bytes])[0]
        field = table[k + 4 + lay.off_bytes : k + lay.entry_bytes]
        item = "Q" if typ in (16, 18) else "I"  # LONG8/IFD8 or LONG/IFD
        nbytes = count * struct.calcsize(item)
        if nbytes > len(field):
            fh.seek(lay.unpack(lay.off_fmt, field)[0])
            field = fh.read(nbytes)
        if len(field) < nbytes or count > _MAX_IFDS:
            return [1 << 62]  # the list itself is cut off
        return list(lay.unpack(item * count, field[:nbytes]))
    return []


def check_ifd_chain(path: Path) -> None:
    """Walk the image directories (and SubIFD links): one past the end means truncation.

    tifffile only logs a warning and stops at such a link, which would silently drop levels
    and associated images of a damaged copy.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(16)
        lay = _Layout(head)
        raw = head[8:16] if lay.big else head[4:8]
        offset = lay.unpack(lay.off_fmt, raw)[0] if len(raw) == lay.off_bytes else size
        if offset < 8:  # 0 (no image at all) or pointing into the header
            raise _corrupt(path, "the TIFF header points to no image directory")
        for n_ifd in range(_MAX_IFDS):
            if offset == 0:
                return
            if offset + lay.count_bytes > size:
                raise _corrupt(
                    path,
                    f"the file is truncated: image directory {n_ifd} lies past "
                    f"its end ({size} bytes)",
                )
            fh.seek(offset)
            (count,) = lay.unpack(lay.count_fmt, fh.read(lay.count_bytes))
            table = fh.read(count * lay.entry_bytes)
            link = fh.read(lay.off_bytes)
            if len(link) < lay.off_bytes:
                raise _corrupt(path, f"the file is truncated inside image directory {n_ifd}")
            if any(sub + lay.count_bytes > size for sub in _subifd_offsets(fh, table, lay)):
                raise _corrupt(
                    path,
                    f"the file is truncated: a reduced level of image "
                    f"directory {n_ifd} lies past its end ({size} bytes)",
                )
            offset = lay.unpack(lay.off_fmt, link)[0]


def _corrupt(path: Path, what: str) -> CorruptSlideError:
    return CorruptSlideError(
        path, what, "The file is probably truncated or damaged: copy it again from its source."
    )


class _Level:
    """Segment (tile or strip) geometry of one pyramid level's page."""

    def __init__(self, page: tifffile.TiffPage) -> None:
        self.page = page
        self.height, self.width = int(page.imagelength), int(page.imagewidth)
        if page.is_tiled:
            self.seg_h, self.seg_w = int(page.tilelength), int(page.tilewidth)
        else:
            self.seg_h = min(int(page.rowsperstrip or self.height), self.height)
            self.seg_w = self.width
        self.across = math.ceil(self.width / self.seg_w)
        self.down = math.ceil(self.height / self.seg_h)
        separate = page.planarconfig == 2 and page.samplesperpixel > 1
        self.planes = min(int(page.samplesperpixel), 4) if separate else 1
        self.offsets = np.asarray(page.dataoffsets, dtype=np.int64)
        self.counts = np.asarray(page.databytecounts, dtype=np.int64)


def _pick_levels(tf: tifffile.TiffFile, path: Path) -> list[_Level]:
    """Levels of the first series, largest first; refuse what is not a 2-D image."""
    if not tf.series or not tf.pages:
        raise _corrupt(path, "the TIFF header is valid but no image directory can be read")
    levels = []
    for series in tf.series[0].levels:
        page = series.keyframe
        if page is None or page.imagedepth > 1:
            raise UnsupportedSlideError(
                path,
                "volumetric (3-D) TIFF pages are not supported",
                "Export a 2-D image or pyramid.",
            )
        levels.append(_Level(page))
    levels.sort(key=lambda lvl: -lvl.width * lvl.height)
    return levels


def _check_extent(levels: list[_Level], file_size: int, path: Path) -> None:
    """Tile data that ends past the end of the file means a truncated copy."""
    for lvl in levels:
        ends = lvl.offsets + lvl.counts
        if ends.size and int(ends.max()) > file_size:
            raise _corrupt(
                path,
                f"the file is truncated: image data runs to byte "
                f"{int(ends.max())} but the file has {file_size}",
            )


def _ome_properties(tf: tifffile.TiffFile) -> dict[str, str]:
    """Pixel size (converted to µm) and objective from the OME-XML, as ``ome.*`` keys."""
    xml = tf.ome_metadata or ""
    props: dict[str, str] = {}
    for axis in ("X", "Y"):
        size = re.search(rf'PhysicalSize{axis}="([^"]+)"', xml)
        unit = re.search(rf'PhysicalSize{axis}Unit="([^"]+)"', xml)
        factor = _OME_UM.get(unit.group(1) if unit else "µm")
        if size and factor:
            props[f"ome.PhysicalSize{axis}"] = str(float(size.group(1)) * factor)
    mag = re.search(r'NominalMagnification="([^"]+)"', xml)
    if mag:
        props["ome.NominalMagnification"] = mag.group(1)
    return props


def _properties(tf: tifffile.TiffFile, page: tifffile.TiffPage) -> dict[str, str]:
    """Openslide-style names (``tiff.XResolution``...) so the shared mpp chain applies."""
    props = {"openslide.vendor": "ome-tiff" if tf.is_ome else "generic-tiff"}
    tags = page.tags
    for name in ("ImageDescription", "Software", "Make", "Model", "DateTime"):
        tag = tags.get(name)
        if tag is not None and isinstance(tag.value, str):
            props[f"tiff.{name}"] = tag.value[:4096]
    unit = tags.get("ResolutionUnit")
    if unit is not None:
        props["tiff.ResolutionUnit"] = {1: "none", 2: "inch", 3: "centimeter"}.get(
            int(unit.value), str(unit.value)
        )
    for name in ("XResolution", "YResolution"):
        tag = tags.get(name)
        if tag is not None and isinstance(tag.value, tuple) and tag.value[1]:
            props[f"tiff.{name}"] = repr(tag.value[0] / tag.value[1])
    if tf.is_ome:
        props.update(_ome_properties(tf))
    return props


def better_than_generic_tiff(path: Path) -> bool:
    """True when OpenSlide's generic TIFF reader would miss levels, OME axes or pixel types."""
    try:
        with tifffile.TiffFile(path) as tf:
            page = tf.pages.first
            return bool(tf.is_ome or page.subifds or page.dtype != np.uint8)
    except Exception:  # any parse failure: let OpenSlide have it
        return False


class TiffSlide(StoredSlide):
    """A tiled or stripped TIFF pyramid read tile by tile."""

    backend_name = NAME

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        size = self.path.stat().st_size
        check_ifd_chain(self.path)
        try:
            self._tf = tifffile.TiffFile(self.path)
        except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError) as exc:
            raise _corrupt(self.path, f"the TIFF structure cannot be parsed ({exc})") from exc
        try:
            self._levels = _pick_levels(self._tf, self.path)
            _check_extent(self._levels, size, self.path)
            props = MappingProxyType(_properties(self._tf, self._levels[0].page))
        except SlideError:
            self._tf.close()
            raise
        except Exception as exc:  # tifffile's parsers raise many types on malformed tags
            self._tf.close()
            raise _corrupt(self.path, f"the TIFF tags cannot be parsed ({exc})") from exc
        self._io_lock = threading.Lock()
        self._guard = ReadGuard(self.path)
        w0, h0 = self._levels[0].width, self._levels[0].height
        dims = tuple((lvl.width, lvl.height) for lvl in self._levels)
        downs = tuple((w0 / w + h0 / h) / 2 for w, h in dims)
        self._meta = SlideMetadata.from_properties(dims, downs, props)

    def _read_region(self, l0_xy: tuple[int, int], level: int, size: tuple[int, int]) -> RGBArray:
        lvl = self._levels[level]
        ds = self.level_downsamples[level]
        lvl_x, lvl_y = math.floor(l0_xy[0] / ds), math.floor(l0_xy[1] / ds)
        w, h = size
        out = white(h, w)
        x0, y0 = max(lvl_x, 0), max(lvl_y, 0)
        x1, y1 = min(lvl_x + w, lvl.width), min(lvl_y + h, lvl.height)
        if x1 <= x0 or y1 <= y0:
            return out
        with self._guard.reading():
            for row in range(y0 // lvl.seg_h, (y1 - 1) // lvl.seg_h + 1):
                for col in range(x0 // lvl.seg_w, (x1 - 1) // lvl.seg_w + 1):
                    seg = self._segment(lvl, row * lvl.across + col)
                    if seg is None:
                        continue
                    seg_x, seg_y = col * lvl.seg_w, row * lvl.seg_h
                    sx0, sy0 = max(x0, seg_x), max(y0, seg_y)
                    sx1 = min(x1, seg_x + seg.shape[1])
                    sy1 = min(y1, seg_y + seg.shape[0])
                    if sx1 > sx0 and sy1 > sy0:
                        out[sy0 - lvl_y : sy1 - lvl_y, sx0 - lvl_x : sx1 - lvl_x] = seg[
                            sy0 - seg_y : sy1 - seg_y, sx0 - seg_x : sx1 - seg_x
                        ]
        return out

    def _segment(self, lvl: _Level, index: int) -> RGBArray | None:
        """Decode one tile/strip (all its sample planes) to RGB; None where never written."""
        per_plane = lvl.across * lvl.down
        planes: list[np.ndarray[Any, Any]] = []
        for plane in range(lvl.planes):
            i = plane * per_plane + index
            if i >= len(lvl.offsets) or lvl.counts[i] == 0:
                return None
            try:
                with self._io_lock:
                    fh = lvl.page.parent.filehandle
                    fh.seek(int(lvl.offsets[i]))
                    data = fh.read(int(lvl.counts[i]))
            except OSError as exc:
                raise _corrupt(self.path, f"reading tile {i} failed ({exc})") from exc
            if len(data) < lvl.counts[i]:
                raise _corrupt(self.path, f"tile {i} of a level ends past the end of the file")
            try:
                decoded, _, _ = lvl.page.decode(data, i, jpegtables=lvl.page.jpegtables)
            except Exception as exc:  # codec errors come in many types
                raise _corrupt(self.path, f"tile {i} cannot be decoded ({exc})") from exc
            if decoded is None:
                return None
            planes.append(decoded[0])
        arr = planes[0] if lvl.planes == 1 else np.concatenate(planes, axis=-1)
        return to_rgb(arr)

    def close(self) -> None:
        super().close()
        if self._guard.close():
            self._tf.close()


def open_tifffile(path: Path) -> Slide:
    return TiffSlide(path)
