"""Digit classifiers, and the differentiable rewards built on them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .digits import digit_images

CLASSES = 10


class DigitClassifier(nn.Module):
    """Softmax regression (``hidden=0``) or a one-hidden-layer MLP on flattened images.

    Args:
        image_size: side of the square input images.
        hidden: width of the hidden layer; 0 for plain softmax regression.
    """

    def __init__(self, image_size: int = 8, hidden: int = 0) -> None:
        super().__init__()
        if hidden < 0:
            raise ValueError(f"hidden must be non-negative, got {hidden}")
        features = image_size * image_size
        self.image_size = image_size
        self.net = (
            nn.Linear(features, CLASSES)
            if hidden == 0
            else nn.Sequential(nn.Linear(features, hidden), nn.SiLU(), nn.Linear(hidden, CLASSES))
        )

    def forward(self, images: Tensor) -> Tensor:
        """Class logits ``(batch, 10)`` for images ``(batch, 1, size, size)``."""
        if images.shape[1:] != (1, self.image_size, self.image_size):
            raise ValueError(
                f"DigitClassifier expects images of shape (batch, 1, {self.image_size}, {self.image_size}), "
                f"got {tuple(images.shape)}"
            )
        return self.net(images.flatten(1))

    def features(self, images: Tensor) -> Tensor:
        """The hidden layer's activations ``(batch, hidden)`` (the flattened image for softmax regression)."""
        flat = images.flatten(1)
        return flat if isinstance(self.net, nn.Linear) else self.net[1](self.net[0](flat))

    def fit(self, images: Tensor, labels: Tensor, weight_decay: float = 1e-3, epochs: int = 300) -> DigitClassifier:
        """Full-batch L-BFGS on cross-entropy plus ``weight_decay·‖θ‖²``; deterministic."""
        optimizer = torch.optim.LBFGS(self.parameters(), lr=0.5, max_iter=epochs, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            optimizer.zero_grad()
            penalty = sum(p.pow(2).sum() for p in self.parameters())
            loss = F.cross_entropy(self(images), labels) + weight_decay * penalty
            loss.backward()
            return loss

        optimizer.step(closure)
        return self.requires_grad_(False).eval()


class DigitReward(nn.Module):
    """``r(x) = log p(target | x)`` (or ``log max_c p(c | x)``) under a digit classifier.

    The classifier is trained on construction, on all 1797 digits or on a seeded
    random subset of ``train_size`` of them: the first is the "genuine" reward of
    the overoptimisation study, a small subset gives an imperfect "learned" one.
    The reward is differentiable in ``x``.

    Args:
        target: the digit to reward; ``None`` rewards being any confidently
            classified digit.
        train_size: how many digits to train on; ``None`` for all.
        hidden: classifier hidden width (0: softmax regression).
        image_size, resize: as in :func:`rewardsde.images.digit_images`.
        weight_decay: L2 penalty of the classifier fit.
        seed: chooses the subset.
    """

    def __init__(
        self,
        target: int | None = None,
        train_size: int | None = None,
        hidden: int = 0,
        image_size: int = 8,
        resize: str = "pad",
        weight_decay: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if target is not None and not 0 <= target < CLASSES:
            raise ValueError(f"target must be a digit 0-9 or None, got {target}")
        images, labels = digit_images(image_size, resize)
        if train_size is not None:
            if not CLASSES <= train_size <= len(labels):
                raise ValueError(f"train_size must lie in [{CLASSES}, {len(labels)}], got {train_size}")
            chosen = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))[:train_size]
            images, labels = images[chosen], labels[chosen]
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.classifier = DigitClassifier(image_size, hidden)
        torch.random.set_rng_state(torch_state)
        self.classifier.fit(images, labels, weight_decay)
        self.target = target

    def forward(self, x: Tensor) -> Tensor:
        log_probs = F.log_softmax(self.classifier(x), dim=-1)
        if self.target is None:
            return log_probs.max(dim=-1).values
        return log_probs[:, self.target]


class DigitFeatures(nn.Module):
    """A digit classifier's hidden layer as a feature map, for diversity that sees collapse.

    Pixel distances between samples are dominated by the solver's pixel noise, so a
    collapsed model (every sample one stroke) looks as diverse as a healthy one. In
    the hidden layer of an MLP fitted to all 1797 digits (the genuine reward's
    classifier with the same arguments), samples of one shape sit together. Use it
    as ``SampleEvaluation(features=DigitFeatures())``.

    Args:
        hidden: width of the classifier's hidden layer; positive.
        image_size, resize, weight_decay, seed: as in :class:`DigitReward`.
    """

    def __init__(self, hidden: int = 64, image_size: int = 8, resize: str = "pad", weight_decay: float = 1e-3,
                 seed: int = 0) -> None:
        super().__init__()
        if hidden < 1:
            raise ValueError(f"DigitFeatures needs a hidden layer, got hidden={hidden}")
        reward = DigitReward(hidden=hidden, image_size=image_size, resize=resize, weight_decay=weight_decay, seed=seed)
        self.classifier = reward.classifier

    def forward(self, x: Tensor) -> Tensor:
        """Features ``(batch, hidden)`` of images ``(batch, 1, size, size)``, in the weights' dtype (a
        torchmetrics ``Metric`` holding this module may have cast them to float64)."""
        return self.classifier.features(x.to(next(self.classifier.parameters()).dtype))
