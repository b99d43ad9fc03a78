"""Metrics and structured logs shared by the worker, the registry service and the API."""
