"""End to end: a real server (uvicorn on loopback) with the webhooks router and dispatcher,
managed with the `schemashift webhooks` CLI, delivering registry events to a real receiver.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import uvicorn

from schemashift.api import webhooks as webhooks_api
from schemashift.api.app import create_app
from schemashift.cli import main
from schemashift.registry.service import Registry
from schemashift.webhooks import (
    DispatcherOptions,
    RetryPolicy,
    WebhookDispatcher,
    Webhooks,
    WebhookStore,
    verify_signature,
)
from schemashift.webhooks.testing import LoopbackReceiver, ReceivedRequest, Response
from tests.support.servers import free_port

SECRET = "whsec_e2e-secret-0123456789abcdef"
OPTIONS = DispatcherOptions(
    retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
    timeout=5.0,
    poll_interval=0.05,
)


@dataclass
class Server:
    url: str
    registry: Registry
    store: WebhookStore


@asynccontextmanager
async def serving(db_url: str) -> AsyncIterator[Server]:
    """The registry API with webhooks on a free port, and the dispatcher beside it."""
    registry = Registry.from_url(db_url)
    store = WebhookStore.from_url(db_url)
    dispatcher = WebhookDispatcher(store, registry, options=OPTIONS)
    service = Webhooks(store, on_change=dispatcher.wake)
    app = create_app(
        registry,
        routers=[webhooks_api.router],
        state={"webhooks": service, "sunset_sweep_seconds": 0},
    )
    # Port 0: the kernel picks a free port at bind time (no window for another process).
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    http = asyncio.create_task(server.serve())
    delivering = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Server(f"http://127.0.0.1:{port}", registry, store)
    finally:
        await dispatcher.stop()
        server.should_exit = True
        await asyncio.gather(http, delivering)
        store.close()
        registry.close()


async def cli(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in a thread (it is synchronous) against the server in this loop."""
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(main, ["webhooks", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def schema(*fields: str) -> dict[str, object]:
    return {"type": "object", "properties": {f: {"type": "string"} for f in fields}}


def test_subscribe_receive_dead_letter_resend_and_remove(tmp_path: Path) -> None:
    """The whole life of a subscription through the CLI, with real registrations."""
    refusing = [True]

    def respond(request: ReceivedRequest) -> Response:
        subject = request.json()["subject"]
        return 410 if subject == "orders/refunded" and refusing[0] else 200

    async def scenario() -> None:
        async with (
            serving(f"sqlite:///{tmp_path / 'e2e.db'}") as server,
            LoopbackReceiver(respond) as receiver,
        ):
            code, out, err = await cli(
                "--url",
                server.url,
                "add",
                receiver.url,
                "--subject",
                "orders/*",
                "--kind",
                "schema.updated",
                "--secret",
                SECRET,
            )
            assert (code, err) == (0, "")
            assert "created subscription 1" in out and SECRET in out

            await asyncio.to_thread(server.registry.register, "orders/created", schema("id"))
            await asyncio.to_thread(server.registry.register, "payments/settled", schema("id"))
            (first,) = await receiver.wait_for(1)
            event = first.json()
            verify_signature(SECRET, first.headers, first.body, now=time.time())
            assert (event["specversion"], event["type"]) == ("1.0", "io.schemashift.schema.updated")
            assert (event["subject"], event["data"]["version"]) == ("orders/created", 1)
            assert event["data"]["schema"]["properties"] == {"id": {"type": "string"}}

            await asyncio.to_thread(server.registry.register, "orders/refunded", schema("id"))
            await receiver.wait_for_requests(2)

            async def dead_lettered() -> bool:
                code, out, _ = await cli(
                    "--url", server.url, "--json", "deliveries", "--status", "dead"
                )
                return code == 0 and len(orjson.loads(out)) == 1

            async with asyncio.timeout(30):
                while not await dead_lettered():
                    await asyncio.sleep(0.05)
            code, out, _ = await cli("--url", server.url, "deliveries", "--status", "dead")
            assert code == 0 and "orders/refunded" in out and "HTTP 410" in out
            code, out, _ = await cli("--url", server.url, "list")
            assert code == 0 and "orders/*" in out and receiver.url in out

            refusing[0] = False
            code, out, _ = await cli("--url", server.url, "resend", "--dead")
            assert (code, out) == (0, "re-queued 1 dead letter(s)\n")
            accepted = await receiver.wait_for(2)
            assert [r.json()["subject"] for r in accepted] == ["orders/created", "orders/refunded"]
            refunded_ids = {
                r.json()["id"]
                for r in receiver.requests
                if r.json()["subject"] == "orders/refunded"
            }
            assert len(refunded_ids) == 1  # the re-send kept the CloudEvents id

            code, out, _ = await cli("--url", server.url, "remove", "1")
            assert (code, out) == (0, "removed subscription 1\n")
            code, out, _ = await cli("--url", server.url, "list")
            assert (code, out) == (0, "no webhook subscriptions\n")

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_the_cli_reports_refusals_and_unreachable_servers(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(f"sqlite:///{tmp_path / 'e2e.db'}") as server:
            code, _, err = await cli("--url", server.url, "add", "http://169.254.169.254/x")
            assert code == 1
            assert "HTTP 422" in err and "metadata" in err
            code, _, err = await cli("--url", server.url, "remove", "42")
            assert code == 1 and "HTTP 404" in err
            code, _, err = await cli("--url", server.url, "resend")
            assert code == 1 and "--dead" in err
        code, _, err = await cli("--url", f"http://127.0.0.1:{free_port()}", "list")
        assert code == 1 and "cannot reach" in err

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_all_in_one_server_delivers_registrations_to_webhooks(tmp_path: Path) -> None:
    """`schemashift serve` as composed (server/parts.py): a schema registered through the
    Confluent API reaches a subscription made with the CLI, signed."""
    from schemashift.server.settings import ServerSettings
    from schemashift.server.testing import running_server

    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'serve.db'}", port=0, ui=False, log_level="WARNING"
    )

    async def scenario(url: str) -> ReceivedRequest:
        async with LoopbackReceiver() as receiver:
            code, _, err = await cli("--url", url, "add", receiver.url, "--secret", SECRET)
            assert (code, err) == (0, "")
            async with httpx.AsyncClient(base_url=url) as client:
                answer = await client.post(
                    "/subjects/shop%2Forders/versions",
                    json={"schema": orjson.dumps(schema("id")).decode(), "schemaType": "JSON"},
                )
                assert answer.status_code == 200, answer.text
            (request,) = await receiver.wait_for(1)
            return request

    with running_server(settings) as server:
        request = asyncio.run(asyncio.wait_for(scenario(server.url), 60))
    verify_signature(SECRET, request.headers, request.body, now=time.time())
    event = request.json()
    assert (event["type"], event["subject"]) == ("io.schemashift.schema.updated", "shop/orders")
    assert event["data"]["version"] == 1
