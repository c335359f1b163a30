"""The example configs, installed as ``rewardsde.configs`` so that a pip install has them too.

``rewardsde config-path NAME`` prints the path of ``NAME.yaml``; see
:mod:`rewardsde.example_configs`.
"""
