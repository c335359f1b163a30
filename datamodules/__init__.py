"""Data for pretraining and batches for fine-tuning (``rewardsde.datamodules``)."""

from .ehrlich import EhrlichDataModule
from .finetune import FineTuneDataModule
from .moses import MosesSelfiesDataModule

__all__ = ["EhrlichDataModule", "FineTuneDataModule", "MosesSelfiesDataModule"]
