"""How a tile's slide id is read: the rule that keeps every tile of a slide in one split.

A split by slide needs to know which slide each tile came from. Data sets say it in many
ways: a ``manifest.csv`` column, a TCGA barcode (``TCGA-A1-A0SB-01Z-00-DX1_x1024.png``),
``Case-12`` in the name, a hospital id before the first ``_``, or something only a
pattern finds. ``SlideIdRule`` is that choice, written as one short text that the CLI's
``--slide-id``, the run config and the wizard share:

- ``auto``: a manifest ``slide`` column, else a Kather 2016 ``CRC-Prim-HE-NN`` token;
- ``tcga``: the patient part of a TCGA barcode, ``TCGA-XX-XXXX``;
- ``case``: ``Case-N`` (``case_007``, ``Case 7`` and ``CASE-7`` are all ``Case-7``);
- ``prefix`` or ``prefix:SEP``: the file name up to the first ``SEP`` (default ``_``);
- ``regex:PATTERN``: the first match of PATTERN in the file name (its group 1 if it has one);
- ``column:NAME``: the ``NAME`` column of the folder's ``manifest.csv``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pathscaat.progress import PathscaatError

KATHER_TOKEN = re.compile(r"CRC-Prim-HE-\d+")
TCGA_PATIENT = re.compile(r"TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}", re.IGNORECASE)
CASE_N = re.compile(r"(?<![a-z])case[\s_-]*0*(\d+)", re.IGNORECASE)
KINDS = ("auto", "tcga", "case", "prefix", "regex", "column")
HOW_TO_CHOOSE = (
    "choose how a slide id is read (a TCGA barcode, Case-N, a name prefix, a pattern or a "
    "manifest column: “Slide id” in the wizard, --slide-id for `pathscaat train`)"
)


@dataclass(frozen=True)
class SlideIdRule:
    """One way of reading a slide id; ``value`` is the separator, pattern or column."""

    kind: str = "auto"
    value: str = ""
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str | None) -> SlideIdRule:
        """The rule that ``text`` names (see the module's list); PathscaatError if none."""
        text = (text or "auto").strip()
        kind, _, value = text.partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise PathscaatError(
                f"unknown slide id rule {text!r}: use one of auto, tcga, case, prefix[:SEP], "
                "regex:PATTERN, column:NAME"
            )
        if kind == "prefix":
            return cls("prefix", value or "_")
        if kind == "column":
            if not value.strip():
                raise PathscaatError("column: needs the manifest.csv column, e.g. column:patient")
            return cls("column", value.strip())
        if kind == "regex":
            if not value:
                raise PathscaatError(r"regex: needs a pattern, e.g. regex:^(H\d+)_")
            try:
                pattern = re.compile(value)
            except re.error as exc:
                raise PathscaatError(f"the slide id pattern {value!r} is not valid: {exc}") from exc
            return cls("regex", value, pattern)
        return cls(kind)

    def text(self) -> str:
        """The rule as ``parse`` reads it back."""
        return f"{self.kind}:{self.value}" if self.value else self.kind

    def describe(self) -> str:
        """The rule in words, for warnings and the wizard."""
        return {
            "auto": "the automatic rule (a manifest.csv slide column, or a known data set's "
            "file names)",
            "tcga": "the TCGA patient barcode (TCGA-XX-XXXX)",
            "case": "Case-N in the file name",
            "prefix": f"the file name up to the first {self.value!r}",
            "regex": f"the pattern {self.value}",
            "column": f"the manifest.csv column {self.value!r}",
        }[self.kind]

    def slide_of(self, file_name: str, row: Mapping[str, str] | None = None) -> str | None:
        """The slide id of a tile called ``file_name`` with manifest ``row`` (None: none)."""
        row = row or {}
        name = Path(file_name).name
        if self.kind == "auto":
            token = KATHER_TOKEN.search(name)
            return row.get("slide") or (token.group(0) if token else None)
        if self.kind == "column":
            return (row.get(self.value) or "").strip() or None
        if self.kind == "tcga":
            found = TCGA_PATIENT.search(name)
            return found.group(0).upper() if found else None
        if self.kind == "case":
            case = CASE_N.search(name)
            return f"Case-{int(case.group(1))}" if case else None
        if self.kind == "prefix":
            stem = Path(name).stem
            return stem.split(self.value, 1)[0] or None if self.value in stem else None
        pattern = self._pattern or re.compile(self.value)
        match = pattern.search(name)
        if match is None:
            return None
        return (match.group(1) if pattern.groups else match.group(0)) or None


AUTO = SlideIdRule()


@dataclass(frozen=True)
class GroupPreview:
    """What a rule makes of a data set: tiles per slide id, and the tiles it finds none in."""

    rule: SlideIdRule
    tiles_per_slide: Counter[str]
    without_id: list[str]
    total: int

    def summary(self, shown: int = 6) -> str:
        n = len(self.tiles_per_slide)
        if n == 0:
            return "No slide ids found this way: tiles would be split one by one."
        top = ", ".join(f"{g} ({k})" for g, k in self.tiles_per_slide.most_common(shown))
        more = f", … {n - shown} more" if n > shown else ""
        text = f"{n} slide{'s' * (n != 1)} by {self.rule.describe()}: {top}{more}."
        if self.without_id:
            text += (f" {len(self.without_id)} of {self.total} tiles have none (e.g. "
                     f"{Path(self.without_id[0]).name}): each is its own group.")  # fmt: skip
        if n == 1 and self.total > 1:
            text += " One slide cannot be split into train and test: check the rule."
        return text


def preview_groups(
    tiles: Iterable[tuple[str, Mapping[str, str] | None]], rule: SlideIdRule
) -> GroupPreview:
    """Apply ``rule`` to (file name, manifest row) pairs."""
    per_slide: Counter[str] = Counter()
    missing: list[str] = []
    total = 0
    for name, row in tiles:
        total += 1
        slide = rule.slide_of(name, row)
        if slide is None:
            missing.append(name)
        else:
            per_slide[slide] += 1
    return GroupPreview(rule, per_slide, missing, total)


def missing_id_warning(n_missing: int, total: int, rule: SlideIdRule) -> str:
    """The scan's warning when ``n_missing`` of ``total`` tiles have no slide id."""
    some = f"all {total}" if n_missing == total else f"{n_missing} of {total}"
    return (
        f"{some} tiles have no slide id by {rule.describe()}: those are split per file, so "
        "tiles of one slide can land in both train and test and the test score flatters the "
        f"model; {HOW_TO_CHOOSE}"
    )
