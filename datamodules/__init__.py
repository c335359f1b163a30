"""Data for pretraining and batches for fine-tuning (``rewardsde.datamodules``)."""

from .digits import DigitsDataModule
from .finetune import FineTuneDataModule

__all__ = ["DigitsDataModule", "FineTuneDataModule"]
