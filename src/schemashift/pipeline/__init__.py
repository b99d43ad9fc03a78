"""The stream worker (analyze → register → transform → publish, dead letters) and the
subscriber SDK for consumers."""
