"""Helpers shared by the test suites (not a conftest, so they can be imported explicitly)."""
