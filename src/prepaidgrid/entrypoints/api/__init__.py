"""The HTTP API (FastAPI): channel, consumer and officer endpoints under /api/v1."""
