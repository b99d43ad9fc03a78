"""https targets: the dispatcher connects to the checked address yet verifies the
certificate against the URL's host name (SNI), so pinning never weakens TLS."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx

from schemashift.webhooks import (
    Delivery,
    DeliveryStatus,
    DispatcherOptions,
    MemoryOutbox,
    RetryPolicy,
    WebhookDispatcher,
    Webhooks,
    WebhookStore,
)
from schemashift.webhooks.testing import LoopbackReceiver
from tests.support.environment import unavailable

HOST = "hooks.example.test"
SECRET = "whsec_tls-secret-0123456789"
OPTIONS = DispatcherOptions(retry=RetryPolicy(max_attempts=1), timeout=5.0, poll_interval=0.05)


def certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (openssl, EC P-256, valid one day)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl is needed to make a test certificate")
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-nodes", "-days", "1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert),
            "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def finished(deliveries: list[Delivery]) -> bool:
    return bool(deliveries) and all(d.status is not DeliveryStatus.PENDING for d in deliveries)


def deliver_once(tmp_path: Path, served_name: str) -> WebhookStore:
    key, cert = certificate(tmp_path, served_name)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    store = WebhookStore.from_url(f"sqlite:///{tmp_path / 'tls.db'}")
    outbox = MemoryOutbox()
    outbox.append("schema.updated", "a", version=1)

    def resolver(host: str, port: int) -> list[str]:
        assert host == HOST
        return ["127.0.0.1"]

    async def scenario() -> None:
        async with LoopbackReceiver(tls=server_tls) as receiver:
            url = f"https://{HOST}:{receiver.port}/hook"
            Webhooks(store, resolver=resolver).create(url, secret=SECRET)
            dispatcher = WebhookDispatcher(
                store,
                outbox,
                options=OPTIONS,
                resolver=resolver,
                transport=httpx.AsyncHTTPTransport(verify=client_tls),
            )
            task = asyncio.create_task(dispatcher.run())
            try:
                async with asyncio.timeout(30):
                    while not finished(store.list_deliveries()):  # one read: no race
                        await asyncio.sleep(0.02)
            finally:
                await dispatcher.stop()
                await task

    asyncio.run(scenario())
    return store


def test_https_is_delivered_to_the_pinned_address_with_the_names_certificate(
    tmp_path: Path,
) -> None:
    store = deliver_once(tmp_path, HOST)
    try:
        (delivery,) = store.list_deliveries()
        assert delivery.status is DeliveryStatus.DELIVERED
    finally:
        store.close()


def test_a_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    """Connecting by IP does not skip the host-name check: a wrong certificate fails."""
    store = deliver_once(tmp_path, "someone-else.example.test")
    try:
        (delivery,) = store.list_deliveries()
        assert delivery.status is DeliveryStatus.DEAD
        assert delivery.last_error is not None
        assert "certificate" in delivery.last_error.lower()
    finally:
        store.close()
