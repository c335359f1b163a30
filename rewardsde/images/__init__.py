"""Images: sklearn's bundled digits and classifier rewards on them."""

from .classifier import DigitClassifier, DigitFeatures, DigitReward
from .decoded import DecodedReward, MeanIntensity
from .digits import check_digit_options, digit_images

__all__ = [
    "DecodedReward",
    "DigitClassifier",
    "DigitFeatures",
    "DigitReward",
    "MeanIntensity",
    "check_digit_options",
    "digit_images",
]
