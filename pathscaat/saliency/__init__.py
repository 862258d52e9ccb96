"""Attribution methods and saliency-quality metrics.

``get_method(name, **kw).attribute(model, x, target)`` gives ``Tensor[B, H, W] >= 0`` for
``x`` Bx3xHxW in [0, 1]; ``list_methods()`` names what is available.
"""

from pathscaat.saliency import gradcam, gradient, integrated_gradients, smoothgrad
from pathscaat.saliency.base import SaliencyMethod, eval_mode, get_method, list_methods

__all__ = [
    "SaliencyMethod",
    "eval_mode",
    "get_method",
    "gradcam",
    "gradient",
    "integrated_gradients",
    "list_methods",
    "smoothgrad",
]
