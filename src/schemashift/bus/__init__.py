"""The Bus protocol and its adapters: in-process memory (default) and NATS JetStream."""
