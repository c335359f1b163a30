"""Are the pretrained digits model's samples recognisably digits?

    .venv/bin/rewardsde fit --config configs/pretrain_digits.yaml     # writes pretrained/digits
    .venv/bin/python benchmarks/digits_quality.py [--pipeline pretrained/digits]

A classifier (one-hidden-layer MLP) is fitted to 1400 real digits. The table gives
its mean max-class probability and the spread of its predicted classes on the 397
held-out real digits, on samples of the pretrained model, and on uniform noise.
Samples that look like digits score close to the held-out real ones; noise
scores far lower. Also saves a grid of samples next to real digits
(``docs/figures/digits_samples.png``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
import torch
from _common import markdown_table
from matplotlib.figure import Figure

from rewardsde import DDPMPipelineSDE, sample_reference
from rewardsde.callbacks.plots import image_grid
from rewardsde.images import DigitClassifier, digit_images

matplotlib.use("Agg")


def describe(classifier: DigitClassifier, images: torch.Tensor) -> list[object]:
    """Mean max-class probability, share of the commonest class, and the number of classes seen."""
    probabilities = classifier(images).softmax(-1)
    classes = probabilities.argmax(-1).bincount(minlength=10)
    return [len(images), probabilities.max(-1).values.mean().item(), (classes.max() / len(images)).item(),
            int((classes > 0).sum())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default="pretrained/digits")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100, help="solver steps")
    parser.add_argument("--figure", default="docs/figures/digits_samples.png")
    args = parser.parse_args()

    images, labels = digit_images()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    train, test = order[:1400], order[1400:]
    torch.manual_seed(0)
    classifier = DigitClassifier(8, hidden=64).fit(images[train], labels[train])
    samples = sample_reference(DDPMPipelineSDE(args.pipeline), args.samples, args.steps, seed=0)
    noise = torch.rand(args.samples, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    rows = [["real digits (held out)", *describe(classifier, images[test])],
            [f"pretrained samples ({args.steps} midpoint steps)", *describe(classifier, samples)],
            ["uniform noise", *describe(classifier, noise)]]
    print(markdown_table(["images", "n", "mean max-class probability", "commonest class share", "classes seen"], rows))
    print(f"\npixel range of the samples: [{samples.min():.2f}, {samples.max():.2f}]")

    figure = Figure(figsize=(8, 4))
    for axis, title, batch in zip(figure.subplots(1, 2), ("pretrained samples", "real digits"), (samples, images[test])):
        axis.imshow(image_grid(batch, 64)[0].numpy(), cmap="gray")
        axis.set_title(title)
        axis.axis("off")
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.figure, dpi=120, bbox_inches="tight")
    print(f"saved {args.figure}")


if __name__ == "__main__":
    main()
