"""Images: sklearn's bundled digits and classifier rewards on them."""

from .classifier import DigitClassifier, DigitReward
from .decoded import DecodedReward, MeanIntensity
from .digits import DIGIT_RANGE, check_digit_options, digit_images

__all__ = [
    "DIGIT_RANGE",
    "DecodedReward",
    "DigitClassifier",
    "DigitReward",
    "MeanIntensity",
    "check_digit_options",
    "digit_images",
]
