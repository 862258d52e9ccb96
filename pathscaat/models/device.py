"""``--device`` names to a ``torch.device`` (a wrong one is a clear user error); the list of
devices here, for the wizard's compute page."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from pathscaat.progress import PathscaatError


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str, *, local_rank: int = 0, auto_mps: bool = True) -> torch.device:
    """``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``mps``, ``cuda`` or ``cuda:N``.

    ``local_rank`` (a torchrun rank's) picks the GPU where the name gives no index.
    ``auto_mps=False`` keeps ``auto`` off Apple's MPS, for work in float64 (MPS has none).
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if auto_mps and _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise PathscaatError(
            f"unknown device {name!r}: use auto, cpu, mps, cuda or cuda:N"
        ) from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise PathscaatError(
                f"device {name} asked for, but CUDA is not available here; use cpu or auto"
            )
        index = device.index if device.index is not None else local_rank
        if index >= torch.cuda.device_count():
            raise PathscaatError(f"{name}: only {torch.cuda.device_count()} CUDA devices here")
        return torch.device("cuda", index)
    if device.type == "mps" and not _mps_available():
        raise PathscaatError("device mps asked for, but MPS is not available here")
    return device


@dataclass(frozen=True)
class DeviceInfo:
    """A device a run can use: ``name`` to show, ``device`` the ``--device`` value."""

    name: str
    kind: str
    memory_bytes: int | None
    threads: int | None
    device: str = "cpu"


def list_devices() -> list[DeviceInfo]:
    """Every CUDA GPU (name, memory), MPS when present, and the CPU (threads), best first."""
    out = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            memory = int(props.total_memory)
            out.append(DeviceInfo(props.name, "cuda", memory, None, f"cuda:{index}"))
    if _mps_available():
        out.append(DeviceInfo("Apple GPU (MPS)", "mps", None, None, "mps"))
    cores = os.cpu_count() or torch.get_num_threads()
    out.append(DeviceInfo(f"CPU ({cores} cores)", "cpu", None, torch.get_num_threads(), "cpu"))
    return out
