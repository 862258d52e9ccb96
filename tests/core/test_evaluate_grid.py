"""The saliency figure of ``evaluate`` shows every class, not the first class's images."""

from __future__ import annotations

from collections import Counter

from pathscaat.evaluation.run import MAX_GRID_IMAGES, _grid_index


def _folder(n_classes: int, per_class: int) -> tuple[list[str], list[int]]:
    paths = [f"c{c}/img{i:02d}.png" for c in range(n_classes) for i in range(per_class)]
    return paths, [c for c in range(n_classes) for _ in range(per_class)]


def test_six_columns_over_three_classes_take_two_each() -> None:
    paths, labels = _folder(3, 20)
    idx = _grid_index(paths, labels, paths, 6)
    assert Counter(labels[i] for i in idx) == {0: 2, 1: 2, 2: 2}
    assert idx == sorted(idx)  # grouped by class, left to right


def test_more_classes_than_columns_widen_the_figure() -> None:
    paths, labels = _folder(9, 5)
    idx = _grid_index(paths, labels, paths, 6)
    assert sorted({labels[i] for i in idx}) == list(range(9))
    paths, labels = _folder(30, 2)
    assert len(_grid_index(paths, labels, paths, 6)) == MAX_GRID_IMAGES


def test_images_shared_by_all_models_are_preferred() -> None:
    paths, labels = _folder(3, 10)
    common = [p for p in paths if p.endswith(("01.png", "02.png"))]
    idx = _grid_index(paths, labels, common, 6)
    assert {paths[i] for i in idx} == set(common)
