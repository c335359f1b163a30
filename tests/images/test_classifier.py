import pytest
import torch

from rewardsde.images import DigitClassifier, DigitFeatures, DigitReward, digit_images


def test_classifier_trained_on_most_digits_generalises():
    images, labels = digit_images()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    train, test = order[:1400], order[1400:]
    classifier = DigitClassifier(8).fit(images[train], labels[train])
    accuracy = (classifier(images[test]).argmax(-1) == labels[test]).float().mean()
    assert accuracy > 0.93


def test_reward_is_the_log_probability_of_the_target_and_differentiable():
    reward = DigitReward(target=3)
    images, labels = digit_images()
    threes, others = images[labels == 3][:50], images[labels != 3][:50]
    assert reward(threes).mean() > -0.5 > reward(others).mean()
    x = images[:4].clone().requires_grad_(True)
    reward(x).sum().backward()
    assert x.grad.abs().sum() > 0


def test_a_small_training_subset_gives_a_worse_reward():
    images, labels = digit_images()
    genuine, learned = DigitReward(target=None), DigitReward(target=None, train_size=30)
    accuracy = [(r.classifier(images).argmax(-1) == labels).float().mean() for r in (genuine, learned)]
    assert accuracy[0] > accuracy[1] + 0.05


def test_rewards_are_reproducible_by_seed():
    x = digit_images()[0][:8]
    assert torch.equal(DigitReward(3, train_size=50, seed=4)(x), DigitReward(3, train_size=50, seed=4)(x))
    assert not torch.equal(DigitReward(3, train_size=50, seed=4)(x), DigitReward(3, train_size=50, seed=5)(x))


@pytest.mark.parametrize("kwargs, message", [({"target": 10}, "target"), ({"train_size": 5}, "train_size")])
def test_bad_reward_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DigitReward(**kwargs)


def test_wrong_image_shape_is_named():
    with pytest.raises(ValueError, match=r"\(batch, 1, 8, 8\)"):
        DigitClassifier(8)(torch.zeros(2, 1, 16, 16))


def test_digit_features_see_a_collapse_that_pixel_distances_miss():
    """One digit repeated with pixel noise is about as spread as 64 real digits in pixels,
    but far tighter in the classifier's hidden layer."""
    images, _ = digit_images()
    varied = images[:64]
    generator = torch.Generator().manual_seed(0)
    collapsed = images[:1].expand(64, -1, -1, -1) + 0.5 * torch.randn(varied.shape, generator=generator)
    features = DigitFeatures(hidden=64)

    def spread(x):
        return torch.pdist(x.flatten(1)).mean()

    assert spread(collapsed) > 0.8 * spread(varied)  # pixels: the collapse is hidden
    assert spread(features(collapsed)) < 0.6 * spread(features(varied))  # features: it is plain
    assert features(varied).shape == (64, 64)


def test_digit_features_need_a_hidden_layer():
    with pytest.raises(ValueError, match="hidden=0"):
        DigitFeatures(hidden=0)
