"""Who may do what: workers sign in by signing a message bound to this grid (`signin`, EIP-191
personal message) and get a bearer token tied to their address; submitters (the operator,
the oracle) hold tokens given to the server at start.

Requesters (any wallet that pays for tasks) sign in the same way with a message of their own
form (`signin.requester_sign_in_message`) and get a requester token `dgr_…`, good for storing
and fetching data only. A requester's new sign-in keeps its other tokens (its command line
and its desktop app may be signed in at once), up to `REQUESTER_TOKENS_KEPT` per address.

Worker tokens are `dgw_…`, submitter tokens `dgs_…` (older submitter tokens of any form still
work). Only a token's SHA-256 is stored. A token ends when it expires, when its worker logs
out, or when the same address signs in again (one address is one worker: a new sign-in
revokes the address's earlier tokens). A checked token is cached for `token_cache_s` (5 s by
default), so a revocation by another server process on the same database takes effect
within that time; in this process it takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address
from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from deskgrid.errors import DeskGridError
from deskgrid.grid.clock import Clock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.db import Database
from deskgrid.grid.errors import Unauthorized
from deskgrid.grid.models import LoginReply, LoginRequest
from deskgrid.grid.schema import challenges, grid_meta, requester_tokens, worker_tokens
from deskgrid.grid.signin import (
    MAX_LIFETIME_S,
    REQUESTER,
    VERSION,
    WORKER,
    RequesterLoginRequest,
    SignInChallenge,
    message_for,
    normalize_url,
)

WORKER_TOKEN_PREFIX = "dgw_"
SUBMITTER_TOKEN_PREFIX = "dgs_"
REQUESTER_TOKEN_PREFIX = "dgr_"
REQUESTER_TOKENS_KEPT = 16  # a requester's live tokens; its oldest go beyond this
CACHE_ENTRIES = 10_000
_AGAIN = {WORKER: "log in again", REQUESTER: "sign in again"}


def bound_url(host: str, port: int) -> str:
    """The URL of a server listening on `host`:`port`."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_worker_token() -> str:
    return WORKER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_requester_token() -> str:
    return REQUESTER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_requester_token(token: str) -> bool:
    return token.startswith(REQUESTER_TOKEN_PREFIX)


def new_submitter_token() -> str:
    return SUBMITTER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def grid_id(db: Database) -> str:
    """This grid's id: random, made once and kept in its database (shared by its servers)."""
    for _ in range(2):
        with db.read() as conn:
            found = conn.execute(
                select(grid_meta.c.value).where(grid_meta.c.key == "grid_id")
            ).scalar()
        if found:
            return str(found)
        try:
            with db.write() as conn:
                conn.execute(insert(grid_meta).values(key="grid_id", value=secrets.token_hex(16)))
        except IntegrityError:  # another server made it first
            continue
    raise DeskGridError("The grid could not record its id in its database; restart it.")


@dataclass(frozen=True)
class _Cached:
    address: str
    expires_at: float  # the token's expiry (grid clock)
    checked: float  # when the database last vouched for it (monotonic)
    role: str = WORKER


class Authenticator:
    def __init__(
        self,
        db: Database,
        config: GridConfig,
        clock: Clock,
        submitter_tokens: Sequence[str],
        *,
        origin: str | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self._submitters = [token_hash(t) for t in submitter_tokens if t]
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self.grid_id = grid_id(db)
        self.origin: str | None = None
        self.set_origin(origin or config.public_url)

    def set_origin(self, url: str | None) -> None:
        """The URL workers reach this grid at (the one their sign-ins name)."""
        self.origin = None if url is None else normalize_url(url)

    # ------------------------------------------------------------ submitters

    def is_submitter(self, token: str) -> bool:
        digest = token_hash(token)
        return any(hmac.compare_digest(digest, known) for known in self._submitters)

    # ------------------------------------------------------------ workers

    def _origin(self) -> str:
        if self.origin is None:
            raise Unauthorized("This grid does not know its public URL yet; try again.")
        return self.origin

    def _challenge(
        self, address: str, nonce: str, issued: float, expires: float
    ) -> SignInChallenge:
        return SignInChallenge(
            version=VERSION,
            grid_url=self._origin(),
            grid_id=self.grid_id,
            chain_id=self.config.chain_id,
            address=address,
            nonce=nonce,
            issued_at=int(issued),
            expires_at=int(expires),
        )

    def challenge(self, address: str, role: str = WORKER) -> SignInChallenge:
        """The fields of a one-time sign-in message of `role` ("worker" or "requester") for
        `address` (the signer builds it); the challenge serves only that kind of sign-in."""
        address = to_checksum_address(address)
        now = self.clock.now()
        issued = int(now)
        expires = issued + int(min(self.config.challenge_ttl_s, MAX_LIFETIME_S))
        nonce = secrets.token_hex(16)
        reply = self._challenge(address, nonce, issued, expires)
        with self.db.write() as conn:
            conn.execute(delete(challenges).where(challenges.c.expires_at < now))
            conn.execute(
                insert(challenges).values(
                    nonce=nonce,
                    address=address,
                    issued_at=issued,
                    expires_at=expires,
                    used=0,
                    role=role,
                )
            )
        return reply

    def login(self, request: LoginRequest) -> LoginReply:
        """Check the signed sign-in message and issue a worker token (the challenge is spent;
        the address's earlier tokens are revoked)."""
        address = to_checksum_address(request.address)
        payout = to_checksum_address(request.payout) if request.payout else None
        now = self.clock.now()
        with self.db.write() as conn:
            self._spend(conn, WORKER, address, request.nonce, request.signature, payout, now)
            token = new_worker_token()
            expires = now + self.config.worker_token_ttl_s
            conn.execute(
                delete(worker_tokens).where(
                    (worker_tokens.c.expires_at < now) | (worker_tokens.c.address == address)
                )
            )
            conn.execute(
                insert(worker_tokens).values(
                    token_hash=token_hash(token),
                    address=address,
                    created_at=now,
                    expires_at=expires,
                )
            )
        self._forget_address(address)
        return LoginReply(token=token, address=address, expires_at=expires, payout=payout)

    def login_requester(self, request: RequesterLoginRequest) -> LoginReply:
        """Check the signed requester sign-in message and issue a requester token (data
        only, as long-lived as a worker's); the challenge is spent."""
        address = to_checksum_address(request.address)
        now = self.clock.now()
        with self.db.write() as conn:
            self._spend(conn, REQUESTER, address, request.nonce, request.signature, None, now)
            token = new_requester_token()
            expires = now + self.config.worker_token_ttl_s
            conn.execute(delete(requester_tokens).where(requester_tokens.c.expires_at < now))
            conn.execute(
                insert(requester_tokens).values(
                    token_hash=token_hash(token),
                    address=address,
                    created_at=now,
                    expires_at=expires,
                )
            )
            kept = (
                select(requester_tokens.c.token_hash)
                .where(requester_tokens.c.address == address)
                .order_by(requester_tokens.c.created_at.desc())
                .limit(REQUESTER_TOKENS_KEPT)
            )
            conn.execute(
                delete(requester_tokens).where(
                    requester_tokens.c.address == address,
                    requester_tokens.c.token_hash.not_in(kept.scalar_subquery()),
                )
            )
        return LoginReply(token=token, address=address, expires_at=expires)

    def _spend(
        self,
        conn: Connection,
        role: str,
        address: str,
        nonce: str,
        signature: str,
        payout: str | None,
        now: float,
    ) -> None:
        """Check that `signature` signs the `role` sign-in message of the challenge `nonce`
        given to `address`, and spend the challenge; Unauthorized with a sentence if not."""
        row = conn.execute(select(challenges).where(challenges.c.nonce == nonce)).mappings().first()
        if row is None or row["address"] != address or row["role"] != role:
            raise Unauthorized(
                f"Unknown challenge for this address; ask for a new one (POST /{role}s/challenge)."
            )
        if row["used"]:
            raise Unauthorized("This challenge was already used; ask for a new one.")
        if row["expires_at"] < now:
            raise Unauthorized("This challenge expired; ask for a new one and sign it.")
        challenge = self._challenge(address, nonce, row["issued_at"], row["expires_at"])
        message = message_for(role, challenge, payout)
        try:
            signer = Account.recover_message(encode_defunct(text=message), signature=signature)
        except Exception:
            raise Unauthorized(
                "The signature is not a valid EIP-191 signature of the sign-in message."
            ) from None
        if signer != address:
            raise Unauthorized(
                f"The {role} sign-in message for this grid ({challenge.grid_url}) was not "
                f"signed by {address}; sign the message built from this grid's challenge."
            )
        spent = conn.execute(
            update(challenges)
            .where(challenges.c.nonce == nonce, challenges.c.used == 0)
            .values(used=1)
        )
        if spent.rowcount != 1:
            raise Unauthorized("This challenge was already used; ask for a new one.")

    def logout(self, token: str) -> None:
        """Revoke this worker token."""
        digest = token_hash(token)
        with self.db.write() as conn:
            conn.execute(delete(worker_tokens).where(worker_tokens.c.token_hash == digest))
        self._cache.pop(digest, None)

    def _forget_address(self, address: str) -> None:
        for digest in [d for d, c in self._cache.items() if c.address == address]:
            self._cache.pop(digest, None)

    def worker_address(self, token: str) -> str:
        """The address a worker token belongs to; Unauthorized if unknown, revoked or
        expired. The database is asked again once a cached answer is `token_cache_s` old."""
        return self._address(token, worker_tokens, WORKER)

    def requester_address(self, token: str) -> str:
        """The wallet address a requester token belongs to; Unauthorized if unknown or
        expired (cached like a worker's)."""
        return self._address(token, requester_tokens, REQUESTER)

    def _address(self, token: str, table: Table, role: str) -> str:
        digest = token_hash(token)
        now = self.clock.now()
        cached = self._cache.get(digest)
        if cached is not None and (
            cached.role != role or time.monotonic() - cached.checked > self.config.token_cache_s
        ):
            self._cache.pop(digest, None)
            cached = None
        if cached is None:
            with self.db.read() as conn:
                row = conn.execute(
                    select(table.c.address, table.c.expires_at).where(table.c.token_hash == digest)
                ).first()
            if row is None:
                raise Unauthorized(f"Unknown or revoked {role} token; {_AGAIN[role]}.")
            cached = _Cached(row[0], row[1], time.monotonic(), role)
            self._cache[digest] = cached
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(digest)
        if cached.expires_at < now:
            self._cache.pop(digest, None)
            raise Unauthorized(f"The {role} token expired; {_AGAIN[role]}.")
        return cached.address
