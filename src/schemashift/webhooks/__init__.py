"""Webhooks: schema events pushed to any HTTP consumer, signed, retried, never silently dropped.

- :class:`Webhooks` manages subscriptions, deliveries and dead letters (used by the API).
- :class:`WebhookDispatcher` reads the registry outbox with its own cursor and delivers
  CloudEvents 1.0 (structured JSON) to every matching subscription.
- :func:`verify_signature` is the receivers' check (:mod:`schemashift.webhooks.verify`).

See docs/webhooks.md for the signature header, the retry schedule and the URL rules.
"""

from __future__ import annotations

from schemashift.webhooks.dispatcher import DispatcherOptions, WebhookDispatcher
from schemashift.webhooks.errors import (
    DeliveryNotFoundError,
    InvalidSubscriptionError,
    SubscriptionNotFoundError,
    TargetUrlError,
    WebhookError,
)
from schemashift.webhooks.events import OutboxReader, cloudevent, event_id
from schemashift.webhooks.memory import MemoryOutbox
from schemashift.webhooks.model import Attempt, Delivery, DeliveryStatus, EventKind, Subscription
from schemashift.webhooks.retry import RetryPolicy
from schemashift.webhooks.service import Webhooks
from schemashift.webhooks.signing import signature_header
from schemashift.webhooks.store import WebhookStore
from schemashift.webhooks.urls import UrlPolicy, validate_target_url
from schemashift.webhooks.verify import SIGNATURE_HEADER, SignatureError, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "Attempt",
    "Delivery",
    "DeliveryNotFoundError",
    "DeliveryStatus",
    "DispatcherOptions",
    "EventKind",
    "InvalidSubscriptionError",
    "MemoryOutbox",
    "OutboxReader",
    "RetryPolicy",
    "SignatureError",
    "Subscription",
    "SubscriptionNotFoundError",
    "TargetUrlError",
    "UrlPolicy",
    "WebhookDispatcher",
    "WebhookError",
    "WebhookStore",
    "Webhooks",
    "cloudevent",
    "event_id",
    "signature_header",
    "validate_target_url",
    "verify_signature",
]
