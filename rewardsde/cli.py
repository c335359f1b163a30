"""The ``rewardsde`` command: LightningCLI with class_path/init_args YAML.

    rewardsde fit --config configs/elegant_gaussian.yaml --model.init_args.alpha=0.25

Configs are read in ``omegaconf+`` mode: ``${...}`` interpolation is resolved after
the command line is merged, so an override of a referenced field reaches every
field that references it.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.cli import LightningCLI


def main(args: list[str] | None = None) -> None:
    """Run the CLI; ``args`` defaults to ``sys.argv[1:]``."""
    LightningCLI(
        L.LightningModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        parser_kwargs={"parser_mode": "omegaconf+"},
        args=args,
    )


if __name__ == "__main__":
    main()
