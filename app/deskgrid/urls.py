"""URLs typed by people (an RPC node, a grid): http(s) with a host, or a sentence."""

from __future__ import annotations

from urllib.parse import urlparse

from deskgrid.errors import DeskGridError


def check_url(text: str, what: str) -> str:
    """An http(s) URL with a host, without a trailing slash; a DeskGridError otherwise."""
    value = (text or "").strip()
    try:
        parsed = urlparse(value)
        host = parsed.hostname
        parsed.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        host = None
    if parsed.scheme not in ("http", "https") or not host:
        raise DeskGridError(
            f"The {what} must be an http:// or https:// address with a host, such as "
            "http://127.0.0.1:8545."
        )
    return value.rstrip("/")
