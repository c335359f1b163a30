"""``python -m rewardsde`` is the ``rewardsde`` command."""

from .cli import main

if __name__ == "__main__":
    main()
