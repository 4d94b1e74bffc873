"""The REST API (``/api/v1``): bearer tokens, JSON in and out, errors without stack traces."""
