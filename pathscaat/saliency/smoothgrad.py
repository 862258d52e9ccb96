"""SmoothGrad through Captum's NoiseTunnel (Smilkov et al. 2017)."""

from __future__ import annotations

import torch
from captum.attr import NoiseTunnel, Saliency
from torch import Tensor, nn

from pathscaat.saliency.base import SaliencyMethod, register


@register
class SmoothGrad(SaliencyMethod):
    """Mean of signed gradients over ``n_samples`` noisy copies; noise is a fraction of [0, 1].

    Signed gradients are averaged before the absolute value (as in the paper), so noise
    cancels instead of accumulating. ``seed`` makes maps reproducible without touching the
    caller's random state.
    """

    name = "smoothgrad"

    def __init__(
        self,
        n_samples: int = 16,
        noise: float = 0.15,
        batch_size: int = 32,
        samples_batch_size: int = 8,
        seed: int | None = 0,
    ) -> None:
        super().__init__(batch_size)
        self.n_samples = n_samples
        self.noise = noise
        self.samples_batch_size = samples_batch_size
        self.seed = seed

    def _raw(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        tunnel = NoiseTunnel(Saliency(model))
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=self.seed is not None):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            attr = tunnel.attribute(
                x,
                nt_type="smoothgrad",
                nt_samples=self.n_samples,
                nt_samples_batch_size=self.samples_batch_size,
                stdevs=self.noise,
                target=target,
                abs=False,
            )
        return attr
