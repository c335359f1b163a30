import pytest
import torch

from rewardsde.images import digit_images


def test_digits_are_scaled_to_minus_one_one():
    images, labels = digit_images()
    assert images.shape == (1797, 1, 8, 8) and labels.shape == (1797,)
    assert images.min() == -1.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))


def test_padding_to_sixteen_keeps_the_digit_in_the_middle():
    small, _ = digit_images(8)
    padded, _ = digit_images(16, "pad")
    assert padded.shape == (1797, 1, 16, 16)
    assert torch.equal(padded[:, :, 4:12, 4:12], small)
    assert (padded[:, :, :4] == -1).all()


def test_bilinear_resize_keeps_the_range():
    resized, _ = digit_images(16, "bilinear")
    assert resized.shape == (1797, 1, 16, 16) and resized.min() >= -1 and resized.max() <= 1


@pytest.mark.parametrize("size, resize, message", [(12, "pad", "image size"), (16, "nearest", "resize")])
def test_bad_options_are_named(size, resize, message):
    with pytest.raises(ValueError, match=message):
        digit_images(size, resize)
