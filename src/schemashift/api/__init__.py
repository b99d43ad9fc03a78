"""The HTTP app: Confluent-compatible REST, native ``/v1`` endpoints, metrics and the web UI."""
