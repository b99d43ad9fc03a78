"""Exceptions of the webhooks part, under the project's tree (``schemashift.errors``).

    SchemaShiftError
    └── WebhookError
        ├── InvalidSubscriptionError   a subscription the server refuses (HTTP 422)
        │   └── TargetUrlError         the target URL breaks the URL rules (docs/webhooks.md)
        ├── SubscriptionNotFoundError  (HTTP 404)
        └── DeliveryNotFoundError      (HTTP 404)

Delivery failures (timeouts, refused connections, 5xx answers) are *values* recorded on the
delivery, never exceptions.
"""

from __future__ import annotations

from schemashift.errors import SchemaShiftError

__all__ = [
    "DeliveryNotFoundError",
    "InvalidSubscriptionError",
    "SubscriptionNotFoundError",
    "TargetUrlError",
    "WebhookError",
]


class WebhookError(SchemaShiftError):
    """Base class of the webhooks part's exceptions."""

    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidSubscriptionError(WebhookError):
    """A subscription field is invalid: a bad pattern, an unknown event kind, a weak secret."""

    http_status = 422


class TargetUrlError(InvalidSubscriptionError):
    """The target URL is not http(s), or resolves to an address the URL rules refuse."""


class SubscriptionNotFoundError(WebhookError):
    http_status = 404


class DeliveryNotFoundError(WebhookError):
    http_status = 404
