"""Modules the tests share: tiny saved models, a SEIKO run for the kill-and-resume test, a two-rank harness."""
