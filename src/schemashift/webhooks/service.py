"""The management side of webhooks, shared by the HTTP API and tests.

``Webhooks`` validates input (patterns, kinds, secret, target URL rules), talks to the store
and nudges the dispatcher when something changes. ``app.state.webhooks`` holds one.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from schemashift.webhooks.errors import InvalidSubscriptionError
from schemashift.webhooks.model import (
    MIN_SECRET_LENGTH,
    Attempt,
    Delivery,
    DeliveryStatus,
    EventKind,
    Subscription,
    compile_pattern,
    parse_kinds,
)
from schemashift.webhooks.store import WebhookStore
from schemashift.webhooks.urls import Resolver, UrlPolicy, system_resolver, validate_target_url

__all__ = ["ALL_KINDS", "Webhooks", "new_secret"]

ALL_KINDS: tuple[str, ...] = tuple(k.value for k in EventKind)
MAX_DESCRIPTION_LENGTH = 1000


def new_secret() -> str:
    """A random signing secret (256 bits, URL-safe text)."""
    return "whsec_" + secrets.token_urlsafe(32)


class Webhooks:
    """Subscriptions, deliveries and dead letters, with every input checked."""

    def __init__(
        self,
        store: WebhookStore,
        *,
        url_policy: UrlPolicy | None = None,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] | None = None,
        make_secret: Callable[[], str] = new_secret,
    ) -> None:
        self.store = store
        self.url_policy = url_policy or UrlPolicy()
        self.resolver = resolver
        self.clock = clock
        self.on_change = on_change
        self.make_secret = make_secret

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _check(
        self,
        url: str | None,
        subjects: Sequence[str] | None,
        kinds: Sequence[str] | None,
        secret: str | None,
        description: str | None,
    ) -> None:
        if url is not None:
            validate_target_url(url, self.url_policy, self.resolver)
        if subjects is not None:
            if not subjects:
                raise InvalidSubscriptionError("give at least one subject pattern ('*' for all)")
            for pattern in subjects:
                compile_pattern(pattern)
        if kinds is not None:
            parse_kinds(kinds)
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            raise InvalidSubscriptionError(
                f"a secret needs at least {MIN_SECRET_LENGTH} characters"
            )
        if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidSubscriptionError(
                f"a description is limited to {MAX_DESCRIPTION_LENGTH} characters"
            )

    def create(
        self,
        url: str,
        *,
        subjects: Sequence[str] = ("*",),
        kinds: Sequence[str] = ALL_KINDS,
        secret: str | None = None,
        enabled: bool = True,
        description: str = "",
    ) -> Subscription:
        """Add a subscription; without ``secret`` one is generated (returned once, here)."""
        self._check(url, subjects, kinds, secret, description)
        subscription = self.store.add_subscription(
            url=url,
            subjects=list(subjects),
            kinds=parse_kinds(kinds),
            secret=secret if secret is not None else self.make_secret(),
            enabled=enabled,
            description=description,
            now=self.clock(),
        )
        self._changed()
        return subscription

    def get(self, subscription_id: int) -> Subscription:
        return self.store.get_subscription(subscription_id)

    def list_subscriptions(self) -> list[Subscription]:
        return self.store.list_subscriptions()

    def update(
        self,
        subscription_id: int,
        *,
        url: str | None = None,
        subjects: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        secret: str | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> Subscription:
        self._check(url, subjects, kinds, secret, description)
        fields: dict[str, Any] = {
            key: value
            for key, value in {
                "url": url,
                "subjects": subjects,
                "kinds": kinds,
                "secret": secret,
                "enabled": enabled,
                "description": description,
            }.items()
            if value is not None
        }
        subscription = self.store.update_subscription(subscription_id, **fields)
        self._changed()
        return subscription

    def delete(self, subscription_id: int) -> None:
        self.store.delete_subscription(subscription_id)
        self._changed()

    def deliveries(
        self,
        *,
        subscription_id: int | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[Delivery]:
        if subscription_id is not None:
            self.store.get_subscription(subscription_id)  # 404 for an unknown subscription
        return self.store.list_deliveries(
            subscription_id=subscription_id, status=status, limit=limit, before_id=before_id
        )

    def delivery(self, delivery_id: int) -> tuple[Delivery, list[Attempt]]:
        return self.store.get_delivery(delivery_id), self.store.list_attempts(delivery_id)

    def resend(self, delivery_id: int) -> Delivery:
        delivery = self.store.resend(delivery_id, now=self.clock())
        self._changed()
        return delivery

    def resend_dead(self, subscription_id: int | None = None) -> int:
        if subscription_id is not None:
            self.store.get_subscription(subscription_id)
        count = self.store.resend_dead(subscription_id=subscription_id, now=self.clock())
        self._changed()
        return count
