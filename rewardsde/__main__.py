"""``python -m rewardsde`` is the ``rewardsde`` command."""

from .cli import main

main()
