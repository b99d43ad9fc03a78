"""`schemashift webhooks` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
from typing import TextIO


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    del args, stdout
    stderr.write("schemashift webhooks: not available yet\n")
    return 2
