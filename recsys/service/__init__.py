"""The HTTP service: `create_app` builds it, `recsys serve` runs it under uvicorn."""
