"""DDP-correct metrics and TensorBoard logging (``rewardsde.callbacks``)."""

from .exact_target import ExactTargetReport, exact_report, format_table

__all__ = ["ExactTargetReport", "exact_report", "format_table"]
