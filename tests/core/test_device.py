"""``resolve_device``: the one mapping of ``--device`` names shared by train, infer, evaluate."""

from __future__ import annotations

import pytest
import torch

from pathscaat.models.device import resolve_device
from pathscaat.progress import PathscaatError


def test_cpu_and_auto() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert resolve_device("auto", auto_mps=False) == torch.device("cpu")
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")


def test_unknown_or_missing_device_is_a_user_error() -> None:
    with pytest.raises(PathscaatError, match="unknown device"):
        resolve_device("tpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(PathscaatError, match="CUDA is not available"):
            resolve_device("cuda:0")
