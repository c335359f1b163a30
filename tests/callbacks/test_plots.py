import torch

from rewardsde.callbacks.plots import image_grid


def test_image_grid_places_each_image_apart_on_grey():
    images = torch.stack([torch.full((1, 2, 3), -1.0), torch.full((1, 2, 3), 1.0), torch.zeros(1, 2, 3)])
    grid = image_grid(images, padding=1)
    # 3 images: 2 columns, 2 rows of 2×3 pixels with 1-pixel gaps
    assert grid.shape == (1, 2 * 2 + 1, 2 * 3 + 1)
    assert torch.equal(grid[:, 0:2, 0:3], torch.zeros(1, 2, 3))
    assert torch.equal(grid[:, 0:2, 4:7], torch.ones(1, 2, 3))
    assert torch.equal(grid[:, 3:5, 0:3], torch.full((1, 2, 3), 0.5))
    assert (grid[:, 2, :] == 0.5).all() and (grid[:, :, 3] == 0.5).all()
