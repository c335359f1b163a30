"""The test suite (a package, so that its helpers import the same way in every pytest import mode)."""
