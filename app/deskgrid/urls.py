"""URLs typed by people (an RPC node, a grid): http(s) with a host, or a sentence."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

from deskgrid.errors import DeskGridError


def check_url(text: str, what: str, schemes: Sequence[str] = ("http", "https")) -> str:
    """A URL of one of `schemes` with a host and, if it names one, a port from 1 to 65535,
    without a trailing slash; a DeskGridError otherwise."""
    value = (text or "").strip()
    try:
        parsed = urlparse(value)
        host = parsed.hostname
        port = parsed.port  # raises ValueError on a port out of range
    except ValueError:
        host, port = None, None
        bad_port = True
    else:
        bad_port = port == 0
    if parsed.scheme not in schemes or not host or bad_port or any(c.isspace() for c in value):
        named = " or ".join(f"{scheme}://" for scheme in schemes)
        raise DeskGridError(
            f"The {what} must be an {named} address with a host (and a port from 1 to 65535 "
            "if it names one), such as http://127.0.0.1:8545."
        )
    return value.rstrip("/")
