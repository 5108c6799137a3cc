"""The worker sign-in message, in the spirit of EIP-4361 (Sign-In with Ethereum).

A grid never sends text to sign. It sends the fields of a challenge (`SignInChallenge`); the
worker checks each of them (the URL must be the one it connected to, the lifetime short, the
nonce and ids of a fixed form) and builds the text itself with `sign_in_message`; the grid
rebuilds the same text from its own stored fields and its own public URL and id to verify
the signature. So a signature names the one grid it was made for, and a key signs nothing
but this fixed form:

    DeskGrid sign-in, version 1
    Sign in to the DeskGrid grid at https://grid.example.org as a worker. This signs no transaction and moves no funds.

    URL: https://grid.example.org
    Grid ID: 5f0c…(32 hex)
    Chain ID: none
    Worker: 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B
    Payout: 0x00000000219ab540356cBB839Cbe05303d7705Fa
    Nonce: 9c1d…(32 hex)
    Issued At: 2026-12-03T08:00:00Z
    Expiration Time: 2026-12-03T08:05:00Z

A requester (any wallet that pays for tasks) signs in the same way to store its input files
and fetch its results, with a message of its own form: another title and statement, a
`Requester:` line in place of `Worker:` and no payout. Each side rebuilds only its own form,
so a worker's signed message is never a requester's sign-in, nor the other way round:

    DeskGrid requester sign-in, version 1
    Sign in to the DeskGrid grid at https://grid.example.org as a requester, to store and fetch data. This signs no transaction and moves no funds.

    URL: https://grid.example.org
    Grid ID: 5f0c…(32 hex)
    Chain ID: none
    Requester: 0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B
    Nonce: 9c1d…(32 hex)
    Issued At: 2026-12-03T08:00:00Z
    Expiration Time: 2026-12-03T08:05:00Z
"""  # noqa: E501

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_utils import is_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deskgrid.grid.models import ADDRESS_PATTERN, Strict
from deskgrid.grid.transport import GridClientError

VERSION = 1
TITLE = f"DeskGrid sign-in, version {VERSION}"
STATEMENT = (
    "Sign in to the DeskGrid grid at {url} as a worker. "
    "This signs no transaction and moves no funds."
)
REQUESTER_TITLE = f"DeskGrid requester sign-in, version {VERSION}"
REQUESTER_STATEMENT = (
    "Sign in to the DeskGrid grid at {url} as a requester, to store and fetch data. "
    "This signs no transaction and moves no funds."
)
WORKER = "worker"
REQUESTER = "requester"
ROLES = (WORKER, REQUESTER)
NONE = "none"  # the marker of an absent chain id or payout address
MAX_LIFETIME_S = 600  # a challenge the worker signs lives at most this long
CLOCK_SKEW_S = 120  # how far the grid's clock may be from the worker's
HEX32 = r"^[0-9a-f]{32}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
MAX_URL = 200
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last time the message can show
_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)*/?$")
_HOST = re.compile(r"^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$")


class SignInChallenge(BaseModel):
    """What `POST /workers/challenge` answers: the fields of the message, never its text."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    version: int
    grid_url: str = Field(max_length=MAX_URL)
    grid_id: str = Field(pattern=HEX32)
    chain_id: int | None = Field(None, ge=1, le=2**53)
    address: str = Field(pattern=ADDRESS)
    nonce: str = Field(pattern=HEX32)
    issued_at: int = Field(ge=0, le=LAST_SECOND)
    expires_at: int = Field(ge=0, le=LAST_SECOND)


class RequesterLoginRequest(Strict):
    """What `POST /requesters/login` takes: the challenge's nonce and the signed message."""

    address: str = Field(pattern=ADDRESS_PATTERN)
    nonce: str = Field(min_length=1, max_length=128)
    signature: str = Field(min_length=2, max_length=200)


class SignInRefused(GridClientError):
    """The worker would not sign the grid's challenge: nothing was signed."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, detail)


def normalize_url(url: str) -> str:
    """A grid's base URL in one spelling: `scheme://host[:port][/path]`, lower-case scheme
    and host, no default port, no trailing slash. ValueError for anything else (user info,
    a query, a fragment, spaces or control characters)."""
    if len(url) > MAX_URL or not url.isprintable() or any(c.isspace() for c in url):
        raise ValueError(f"{url[:80]!r} is not a plain http(s) URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http or https URL")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError(f"{url!r} has user info, a query or a fragment")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"{url!r} names no host")
    host = f"[{host}]" if ":" in host else host
    if not _HOST.fullmatch(host):
        raise ValueError(f"{url!r} has an unusual host name")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    if not _PATH.fullmatch(parts.path or "/"):
        raise ValueError(f"{url!r} has an unusual path")
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def iso(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain_fields(challenge: SignInChallenge, addresses: dict[str, str | None]) -> str:
    """The challenge's URL, once its fields are checked to fit the fixed form."""
    url = normalize_url(challenge.grid_url)
    if url != challenge.grid_url:
        raise ValueError(f"the grid URL {challenge.grid_url!r} is not in its plain form {url!r}")
    if challenge.version != VERSION:
        raise ValueError(f"version {challenge.version} is not {VERSION}")
    for name, address in addresses.items():
        if address is not None and not is_checksum_address(address):
            raise ValueError(f"the {name} address {address!r} is not a checksummed address")
    return url


def _times(challenge: SignInChallenge) -> list[str]:
    return [
        f"Nonce: {challenge.nonce}",
        f"Issued At: {iso(challenge.issued_at)}",
        f"Expiration Time: {iso(challenge.expires_at)}",
    ]


def sign_in_message(challenge: SignInChallenge, payout: str | None) -> str:
    """The text a worker signs for `challenge` (checked to be of the fixed form); ValueError
    when a field would not fit it."""
    url = _plain_fields(challenge, {"worker": challenge.address, "payout": payout})
    chain = NONE if challenge.chain_id is None else str(challenge.chain_id)
    return "\n".join(
        [
            TITLE,
            STATEMENT.format(url=url),
            "",
            f"URL: {url}",
            f"Grid ID: {challenge.grid_id}",
            f"Chain ID: {chain}",
            f"Worker: {challenge.address}",
            f"Payout: {payout or NONE}",
            *_times(challenge),
        ]
    )


def requester_sign_in_message(challenge: SignInChallenge) -> str:
    """The text a requester signs for `challenge` (its own form, never a worker's); ValueError
    when a field would not fit it."""
    url = _plain_fields(challenge, {"requester": challenge.address})
    chain = NONE if challenge.chain_id is None else str(challenge.chain_id)
    return "\n".join(
        [
            REQUESTER_TITLE,
            REQUESTER_STATEMENT.format(url=url),
            "",
            f"URL: {url}",
            f"Grid ID: {challenge.grid_id}",
            f"Chain ID: {chain}",
            f"Requester: {challenge.address}",
            *_times(challenge),
        ]
    )


def message_for(role: str, challenge: SignInChallenge, payout: str | None = None) -> str:
    """The sign-in text of `role` ("worker" or "requester") for `challenge`."""
    if role == REQUESTER:
        if payout is not None:
            raise ValueError("a requester's sign-in names no payout address")
        return requester_sign_in_message(challenge)
    if role != WORKER:
        raise ValueError(f"unknown sign-in role {role!r}; one of {', '.join(ROLES)}")
    return sign_in_message(challenge, payout)


def checked_message(
    reply: object,
    *,
    connected_url: str,
    address: str,
    payout: str | None,
    now: float,
    role: str = WORKER,
) -> tuple[SignInChallenge, str]:
    """The signer's side (a worker, or a requester with `role="requester"`): the challenge a
    grid answered, checked field by field, and the message to sign. SignInRefused (and
    nothing to sign) when any field is wrong."""

    def refuse(why: str) -> SignInRefused:
        return SignInRefused(
            f"This {role} refused to sign in to {connected_url}: {why}. Nothing was signed; "
            "use the grid URL its operator publishes, and a DeskGrid version of the grid's."
        )

    try:
        challenge = SignInChallenge.model_validate(reply)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise refuse(
            "its challenge is not of the form this worker signs"
            + (f" (fields: {', '.join(fields)})" if fields else "")
        ) from None
    if challenge.version != VERSION:
        raise refuse(f"it asks for sign-in version {challenge.version}, this {role} knows 1")
    try:
        expected = normalize_url(connected_url)
        claimed = normalize_url(challenge.grid_url)
    except ValueError as exc:
        raise refuse(str(exc)) from None
    if claimed != expected or challenge.grid_url != claimed:
        raise refuse(f"it says it is the grid at {challenge.grid_url[:100]!r}")
    if challenge.address != address:
        raise refuse(f"the challenge is for {challenge.address}, not for this {role} {address}")
    lifetime = challenge.expires_at - challenge.issued_at
    if not 0 < lifetime <= MAX_LIFETIME_S:
        raise refuse(
            f"the challenge would stay valid {lifetime} s (at most {MAX_LIFETIME_S} s allowed)"
        )
    if challenge.issued_at > now + CLOCK_SKEW_S or challenge.expires_at < now - CLOCK_SKEW_S:
        raise refuse(
            f"the challenge's time (Unix {challenge.issued_at} to {challenge.expires_at}) is "
            "not now; check this computer's clock and the grid's"
        )
    try:
        return challenge, message_for(role, challenge, payout)
    except ValueError as exc:
        raise refuse(str(exc)) from None
