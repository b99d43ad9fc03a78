"""The pure core: values in, values out.

No sockets, files, threads, clocks or module-level mutable state live here; time and
randomness are passed in by the caller. ``tests/unit/test_import_contract.py`` keeps it so.
"""
