"""Augmentation and resizing on tensors, applied identically to an image and its mask.

H&E patches have no canonical orientation, so flips and 90-degree rotations are free;
colour jitter is kept light (stain variation) and never touches the mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _resize(t: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    if t.shape[-2:] == (size, size):
        return t
    kwargs = {"antialias": True, "align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(t[None], size=(size, size), mode=mode, **kwargs)[0]


def _center_square(t: torch.Tensor) -> torch.Tensor:
    h, w = t.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return t[..., top : top + side, left : left + side]


class Augment:
    """Callable ``(image, mask) -> (image, mask)`` giving ``size`` x ``size`` outputs.

    ``train``: random crop of ``min_crop``-100% of the square side (resized to ``size``, so
    a crop also zooms: 1 keeps the scale the model sees fixed), flips, 90-degree rotations
    and brightness/contrast/saturation jitter of +-``jitter``. Otherwise: centre square,
    resize.
    Uses torch's global RNG, which the DataLoader seeds per worker.
    """

    def __init__(self, size: int, train: bool, jitter: float = 0.1, min_crop: float = 0.7) -> None:
        if not 0.0 < min_crop <= 1.0:
            raise ValueError(f"min_crop must be in (0, 1], not {min_crop}")
        self.size = size
        self.train = train
        self.jitter = jitter
        self.min_crop = min_crop

    def __call__(
        self, image: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        image = _center_square(image)
        mask = None if mask is None else _center_square(mask)
        if self.train:
            image, mask = self._geometry(image, mask)
            image = self._colour(image)
        image = _resize(image, self.size, "bilinear").clamp(0.0, 1.0)
        mask = None if mask is None else _resize(mask, self.size, "nearest")
        return image.contiguous(), None if mask is None else mask.contiguous()

    def _geometry(
        self, image: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        side = image.shape[-1]
        crop = max(1, int(side * (self.min_crop + (1 - self.min_crop) * float(torch.rand(())))))
        top, left = (int(torch.randint(0, side - crop + 1, ())) for _ in range(2))
        k = int(torch.randint(0, 4, ()))
        flip = bool(torch.rand(()) < 0.5)

        def apply(t: torch.Tensor) -> torch.Tensor:
            t = t[..., top : top + crop, left : left + crop]
            t = torch.rot90(t, k, dims=(-2, -1))
            return t.flip(-1) if flip else t

        return apply(image), None if mask is None else apply(mask)

    def _colour(self, image: torch.Tensor) -> torch.Tensor:
        if self.jitter <= 0:
            return image
        b, c, s = (1.0 + self.jitter * (2 * torch.rand(3) - 1)).tolist()
        image = image * b
        mean = image.mean()
        image = (image - mean) * c + mean
        grey = image.mean(dim=0, keepdim=True)
        return ((image - grey) * s + grey).clamp(0.0, 1.0)
