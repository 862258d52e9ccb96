"""One batch of tiles through the model: class probabilities and gradient saliency.

For ``vanilla`` and ``input_x_gradient`` the probabilities and the saliency come from
the same forward pass and ONE backward pass per batch: the sum over the batch of each
tile's predicted-class logit has, as its gradient with respect to tile ``b``, exactly
tile ``b``'s own gradient (tiles do not interact in eval mode). Parameters are frozen
so the backward computes input gradients only. Other methods (SmoothGrad, integrated
gradients, Grad-CAM) need several passes by nature and go through ``pathscaat.saliency``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import Tensor, nn

FUSED_METHODS = ("vanilla", "input_x_gradient")


@dataclass
class ScoredBatch:
    """One batch's results, possibly still being copied back from the GPU.

    ``numpy()`` waits for that copy; until it is called the GPU may already work on the
    next batch, so the host-side bookkeeping of one batch overlaps the next one's compute.
    """

    probs: Tensor
    sal: Tensor | None
    ready: torch.cuda.Event | None = None

    def numpy(self) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        if self.ready is not None:
            self.ready.synchronize()
        sal = None if self.sal is None else self.sal.numpy()
        return self.probs.numpy(), sal


class TileScorer:
    """uint8 tiles (B x H x W x 3) -> probabilities B x C and saliency B x S x S.

    Saliency is max-pooled from the tile's input size to ``sal_px`` (sparse peaks stay),
    in raw gradient units; None when ``saliency`` is None. ``sal_cell_px`` > 1 first
    averages the map over ``sal_cell_px`` cells (``stride_aggregate``): the remedy for the
    checkerboard a strided stem stamps on gradient maps (docs/training.md); 1 = the raw map.
    AMP (bfloat16 where the GPU has it, else float16) is used on CUDA unless ``amp=False``.
    ``submit`` returns without waiting for the GPU; calling the scorer returns numpy arrays.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        saliency: str | None,
        device: torch.device,
        sal_px: int,
        amp: bool | None = None,
        sal_cell_px: int = 1,
    ) -> None:
        self.device = device
        self.model = model.to(device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        if device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.saliency = saliency
        self.sal_px = sal_px
        self.sal_cell_px = sal_cell_px
        use_amp = device.type == "cuda" if amp is None else amp
        self._amp_dtype = None
        if use_amp and device.type == "cuda":
            bf16 = torch.cuda.is_bf16_supported()
            self._amp_dtype = torch.bfloat16 if bf16 else torch.float16
        self._method = None
        if saliency is not None and saliency not in FUSED_METHODS:
            from pathscaat.saliency import get_method

            self._method = get_method(saliency)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self._amp_dtype)

    def to_input(self, tiles: NDArray[np.uint8] | Tensor) -> Tensor:
        """uint8 B x H x W x 3 (numpy or tensor) -> float B x 3 x H x W in [0, 1] on device."""
        t = torch.from_numpy(tiles) if isinstance(tiles, np.ndarray) else tiles
        if self.device.type == "cuda" and not t.is_cuda:
            t = t.pin_memory().to(self.device, non_blocking=True)
        else:
            t = t.to(self.device)
        return t.permute(0, 3, 1, 2).float().div_(255.0)

    def __call__(
        self, tiles: NDArray[np.uint8] | Tensor
    ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        return self.submit(tiles).numpy()

    def submit(self, tiles: NDArray[np.uint8] | Tensor) -> ScoredBatch:
        """Launch one batch; results come back through ``ScoredBatch.numpy()``."""
        x = self.to_input(tiles)
        sal: Tensor | None = None
        if self.saliency is None:
            with torch.no_grad(), self._autocast():
                logits = self.model(x)
        elif self._method is None:
            logits, sal = self._fused(x)
        else:
            with torch.no_grad(), self._autocast():
                logits = self.model(x)
            sal = self._method.attribute(self.model, x, logits.argmax(1))
        probs = logits.float().softmax(dim=1)
        return self._to_host(probs, None if sal is None else self._pool(sal))

    def _fused(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Forward, then one backward of the summed predicted-class logits."""
        x = x.detach().requires_grad_(True)
        with torch.enable_grad(), self._autocast():
            logits = self.model(x)
            picked = logits.gather(1, logits.argmax(1, keepdim=True)).sum()
        (grad,) = torch.autograd.grad(picked.float(), x)
        attr = grad if self.saliency == "vanilla" else grad * x.detach()
        return logits.detach(), attr.abs().amax(dim=1)

    def _pool(self, sal: Tensor) -> Tensor:
        sal = sal.float()
        if self.sal_cell_px > 1:
            from pathscaat.saliency.metrics.spectral import stride_aggregate

            sal = stride_aggregate(sal, self.sal_cell_px)
        if sal.shape[-1] != self.sal_px or sal.shape[-2] != self.sal_px:
            sal = F.adaptive_max_pool2d(sal[:, None], self.sal_px)[:, 0]
        return sal

    def _to_host(self, probs: Tensor, sal: Tensor | None) -> ScoredBatch:
        """Start the copies to (pinned) host memory; on CUDA they finish asynchronously."""
        if self.device.type != "cuda":
            return ScoredBatch(probs.cpu(), None if sal is None else sal.cpu())

        def pinned(t: Tensor) -> Tensor:
            host = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
            return host.copy_(t, non_blocking=True)

        ready = torch.cuda.Event()
        batch = ScoredBatch(pinned(probs), None if sal is None else pinned(sal), ready)
        ready.record()
        return batch
