"""Domains: discrete sequences as one-hot tensors, Ehrlich functions and molecules (``rewardsde.domains``)."""
