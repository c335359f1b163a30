"""sklearn's 8×8 digits as image tensors in [-1, 1]."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import Tensor

DIGIT_RANGE = 16.0
"""Pixel values of ``load_digits`` run from 0 to 16."""

SIZES = (8, 16)


def digit_images(size: int = 8, resize: str = "pad") -> tuple[Tensor, Tensor]:
    """All 1797 digits as ``(images (n, 1, size, size) in [-1, 1], labels (n,))``.

    Args:
        size: 8 (native) or 16.
        resize: how 8×8 becomes 16×16: ``"pad"`` (a 4-pixel border of background
            -1) or ``"bilinear"`` (upsampled).
    """
    check_digit_options(size, resize)
    data = load_digits()
    images = torch.as_tensor(data.images, dtype=torch.float32).unsqueeze(1) / DIGIT_RANGE * 2.0 - 1.0
    if size == 16:
        if resize == "pad":
            images = F.pad(images, (4, 4, 4, 4), value=-1.0)
        else:
            images = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    return images, torch.as_tensor(data.target, dtype=torch.long)


def check_digit_options(size: int, resize: str) -> None:
    """Raise ``ValueError`` naming a bad ``size`` or ``resize``."""
    if size not in SIZES:
        raise ValueError(f"digit image size must be one of {SIZES}, got {size}")
    if resize not in ("pad", "bilinear"):
        raise ValueError(f"resize must be 'pad' or 'bilinear', got {resize!r}")
