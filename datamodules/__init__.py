"""Data for pretraining and batches for fine-tuning (``rewardsde.datamodules``)."""

from .finetune import FineTuneDataModule

__all__ = ["FineTuneDataModule"]
