"""``python -m schemashift.security.hash``: make the hashes that go into the auth config.

    python -m schemashift.security.hash            # prompts for a password, prints $scrypt$…
    echo -n "$PW" | python -m schemashift.security.hash --stdin
    python -m schemashift.security.hash --new-token   # prints a fresh token and its $sha256$…

The password is read without echo (or from stdin for scripts), never from the command line,
where it would land in the shell history and in ``ps``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from schemashift.security.hashing import hash_password, hash_token, new_token


def main(
    argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schemashift.security.hash", description=__doc__.splitlines()[0]
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--stdin", action="store_true", help="read the password from standard input")
    group.add_argument(
        "--new-token", action="store_true", help="generate a bearer token and its hash"
    )
    args = parser.parse_args(argv)
    source = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    if args.new_token:
        token = new_token()
        out.write(f"token: {token}\nhash:  {hash_token(token)}\n")
        return 0
    if args.stdin:
        password = source.read().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            sys.stderr.write("passwords differ\n")
            return 1
    if not password:
        sys.stderr.write("refusing an empty password\n")
        return 1
    out.write(hash_password(password) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
