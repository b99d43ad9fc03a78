"""`schemashift run` and the serve options: flags → settings, and the two report modes."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from schemashift.cli import main
from schemashift.server import cli_options
from schemashift.server.settings import ServerSettings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_options.configure(parser)
    return parser.parse_args(argv)


def test_flags_map_onto_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every serve flag lands in its ServerSettings field; absent flags leave the environment."""
    monkeypatch.setenv("SCHEMASHIFT_DEMO_RATE", "5")
    args = parse(
        [
            "--db", "postgresql://u@db/reg", "--bus", "nats://127.0.0.1:4222",
            "--host", "0.0.0.0", "--port", "9000", "--workers", "0", "--no-relay",
            "--no-ui", "--demo", "--registry-url", "https://reg.example",
            "--log-format", "text", "--bus-prefix", "acme",
        ]
    )  # fmt: skip
    settings = cli_options.settings_from_args(args)
    assert settings == ServerSettings(
        db_url="postgresql://u@db/reg",
        bus_url="nats://127.0.0.1:4222",
        host="0.0.0.0",
        port=9000,
        workers=0,
        relay=False,
        ui=False,
        demo=True,
        demo_rate=5.0,
        registry_url="https://reg.example",
        log_format="text",
        bus_prefix="acme",
    )


def test_no_flags_give_the_embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DB_URL", "BUS_URL", "PORT", "DEMO", "DEMO_RATE"):
        monkeypatch.delenv(f"SCHEMASHIFT_{name}", raising=False)
    assert cli_options.settings_from_args(parse([])) == ServerSettings()


def test_invalid_settings_exit_with_usage_code() -> None:
    err = io.StringIO()
    assert cli_options.serve_from_args(parse(["--port", "70000"]), io.StringIO(), err) == 2
    assert "port" in err.getvalue()


def test_run_report_only_covers_every_generated_subject() -> None:
    """`run --report-only` reports each generated event type without starting a server."""
    out, err = io.StringIO(), io.StringIO()
    assert main(["run", "--report-only"], out, err) == 0, err.getvalue()
    for subject in ("shop/order.created", "web/page.clicked", "billing/payment.succeeded"):
        assert subject in out.getvalue()


def test_run_file_that_does_not_exist(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["run", "--file", str(tmp_path / "missing.jsonl")], io.StringIO(), err) == 2
    assert "no such file" in err.getvalue()


@pytest.mark.corpus
def test_run_file_reports_on_a_real_corpus_file(corpus_files: list[Path]) -> None:
    """`make run FILE=…` on real webhook payloads prints a report naming the file."""
    path = next(p for p in corpus_files if p.stat().st_size > 0)
    out, err = io.StringIO(), io.StringIO()
    assert main(["run", "--file", str(path)], out, err) == 0, err.getvalue()
    assert path.name in out.getvalue()


def test_json_duplicates_reaches_the_event_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """--json-duplicates (or SCHEMASHIFT_JSON_DUPLICATES) sets how ingest and the workers
    read a repeated key; last_wins by default."""
    from schemashift.core.jsonparse import DuplicateKeys

    monkeypatch.delenv("SCHEMASHIFT_JSON_DUPLICATES", raising=False)
    default = cli_options.settings_from_args(parse([]))
    assert default.event_limits.duplicate_keys is DuplicateKeys.LAST_WINS
    flagged = cli_options.settings_from_args(parse(["--json-duplicates", "reject"]))
    assert flagged.json_duplicates == "reject"
    assert flagged.event_limits.duplicate_keys is DuplicateKeys.REJECT
    monkeypatch.setenv("SCHEMASHIFT_JSON_DUPLICATES", "reject")
    from_env = cli_options.settings_from_args(parse([]))
    assert from_env.event_limits.duplicate_keys is DuplicateKeys.REJECT
    with pytest.raises(SystemExit):
        parse(["--json-duplicates", "first_wins"])
