"""Data for pretraining and batches for fine-tuning (``rewardsde.datamodules``)."""

from .digits import DigitsDataModule
from .ehrlich import EhrlichDataModule
from .finetune import FineTuneDataModule
from .moses import MosesSelfiesDataModule

__all__ = ["DigitsDataModule", "EhrlichDataModule", "FineTuneDataModule", "MosesSelfiesDataModule"]
