"""DDP-correct metrics and TensorBoard logging (``rewardsde.callbacks``)."""
