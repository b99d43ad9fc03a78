"""One HTTP attempt of one delivery: re-check the target, sign, POST, classify the answer.

The request goes to the address that was just checked (with the original ``Host`` header
and, for https, the original name for SNI and certificate checks), so the name cannot
resolve to something else between the check and the connection. Redirects are not followed;
the answer's body is never read.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from schemashift.webhooks.errors import TargetUrlError
from schemashift.webhooks.model import Delivery, Subscription
from schemashift.webhooks.retry import Outcome, classify_status, parse_retry_after
from schemashift.webhooks.signing import signed_headers
from schemashift.webhooks.urls import (
    ResolutionError,
    Resolver,
    TargetUrl,
    UrlPolicy,
    validate_target_url,
)

__all__ = ["AttemptResult", "Sender", "pinned_url"]

MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


def pinned_url(target: TargetUrl) -> str:
    """``target.url`` with its host replaced by the first checked address."""
    address = target.addresses[0]
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    parts = urlsplit(target.url)
    return urlunsplit((target.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: TargetUrl) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def _names_an_address(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
        ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return True


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


class Sender:
    """Makes attempts with a shared ``httpx.AsyncClient``; every failure is a value."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url_policy: UrlPolicy,
        resolver: Resolver,
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self.client = client
        self.url_policy = url_policy
        self.resolver = resolver
        self.timeout = timeout
        self.clock = clock

    async def send(self, subscription: Subscription, delivery: Delivery) -> AttemptResult:
        try:
            # One deadline for the whole attempt: resolving the name, connecting, sending
            # and a receiver that trickles its answer slowly.
            async with asyncio.timeout(self.timeout):
                target = await self._check(subscription.url)
                return await self._post(subscription, delivery, target)
        except (TimeoutError, httpx.TimeoutException):
            return AttemptResult(Outcome.RETRY, error=f"timeout after {self.timeout:g}s")
        except ResolutionError as exc:
            return AttemptResult(Outcome.RETRY, error=_short(exc.message))
        except TargetUrlError as exc:
            return AttemptResult(Outcome.REFUSED_URL, error=_short(exc.message))
        except httpx.TransportError as exc:
            detail = str(exc) or type(exc).__name__
            return AttemptResult(Outcome.RETRY, error=_short(f"{type(exc).__name__}: {detail}"))

    async def _check(self, url: str) -> TargetUrl:
        if _names_an_address(url):  # nothing to resolve: no thread needed
            return validate_target_url(url, self.url_policy, self.resolver)
        return await asyncio.to_thread(validate_target_url, url, self.url_policy, self.resolver)

    async def _post(
        self, subscription: Subscription, delivery: Delivery, target: TargetUrl
    ) -> AttemptResult:
        timestamp = int(self.clock())
        headers = signed_headers(subscription.secret, timestamp, delivery.body, delivery.event_id)
        headers["Host"] = _host_header(target)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self.client.build_request(
            "POST",
            pinned_url(target),
            content=delivery.body,
            headers=headers,
            extensions=extensions,
            timeout=httpx.Timeout(self.timeout),
        )
        response = await self.client.send(request, stream=True)
        await response.aclose()  # the answer's body is never read
        outcome = classify_status(response.status_code)
        error = None if outcome is Outcome.DELIVERED else f"HTTP {response.status_code}"
        if 300 <= response.status_code < 400:
            error = f"HTTP {response.status_code} (redirects are not followed)"
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
        return AttemptResult(outcome, response.status_code, error, retry_after)
