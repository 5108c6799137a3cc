"""Who may do what: workers log in by signing a one-time challenge with their Ethereum key
(EIP-191 personal message) and get a bearer token tied to their address; submitters (the
operator, the oracle) hold tokens given to the server at start."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address
from sqlalchemy import delete, insert, select, update

from deskgrid.grid.clock import Clock
from deskgrid.grid.config import GridConfig
from deskgrid.grid.db import Database
from deskgrid.grid.errors import Unauthorized
from deskgrid.grid.models import Challenge, LoginReply, LoginRequest
from deskgrid.grid.schema import challenges, worker_tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def challenge_text(address: str, nonce: str, expires_at: float) -> str:
    return f"DeskGrid worker login\naddress: {address}\nnonce: {nonce}\nexpires: {int(expires_at)}"


class Authenticator:
    def __init__(
        self, db: Database, config: GridConfig, clock: Clock, submitter_tokens: Sequence[str]
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self._submitters = [token_hash(t) for t in submitter_tokens if t]
        self._cache: dict[str, tuple[str, float]] = {}

    # ------------------------------------------------------------ submitters

    def is_submitter(self, token: str) -> bool:
        digest = token_hash(token)
        return any(hmac.compare_digest(digest, known) for known in self._submitters)

    # ------------------------------------------------------------ workers

    def challenge(self, address: str) -> Challenge:
        address = to_checksum_address(address)
        now = self.clock.now()
        nonce = secrets.token_hex(16)
        expires = now + self.config.challenge_ttl_s
        message = challenge_text(address, nonce, expires)
        with self.db.write() as conn:
            conn.execute(delete(challenges).where(challenges.c.expires_at < now))
            conn.execute(
                insert(challenges).values(
                    nonce=nonce, address=address, message=message, expires_at=expires, used=0
                )
            )
        return Challenge(address=address, nonce=nonce, message=message, expires_at=expires)

    def login(self, request: LoginRequest) -> LoginReply:
        """Check the signed challenge and issue a worker token (the challenge is spent)."""
        address = to_checksum_address(request.address)
        now = self.clock.now()
        with self.db.write() as conn:
            row = (
                conn.execute(select(challenges).where(challenges.c.nonce == request.nonce))
                .mappings()
                .first()
            )
            if row is None or row["address"] != address:
                raise Unauthorized("Unknown challenge for this address; ask for a new one.")
            if row["used"]:
                raise Unauthorized("This challenge was already used; ask for a new one.")
            if row["expires_at"] < now:
                raise Unauthorized("This challenge expired; ask for a new one and sign it.")
            try:
                signer = Account.recover_message(
                    encode_defunct(text=row["message"]), signature=request.signature
                )
            except Exception:
                raise Unauthorized(
                    "The signature is not a valid EIP-191 signature of the challenge."
                ) from None
            if signer != address:
                raise Unauthorized(f"The challenge was signed by {signer}, not by {address}.")
            spent = conn.execute(
                update(challenges)
                .where(challenges.c.nonce == request.nonce, challenges.c.used == 0)
                .values(used=1)
            )
            if spent.rowcount != 1:
                raise Unauthorized("This challenge was already used; ask for a new one.")
            token = secrets.token_urlsafe(32)
            expires = now + self.config.worker_token_ttl_s
            conn.execute(delete(worker_tokens).where(worker_tokens.c.expires_at < now))
            conn.execute(
                insert(worker_tokens).values(
                    token_hash=token_hash(token),
                    address=address,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return LoginReply(token=token, address=address, expires_at=expires)

    def worker_address(self, token: str) -> str:
        """The address a worker token belongs to; Unauthorized if unknown or expired."""
        digest = token_hash(token)
        now = self.clock.now()
        cached = self._cache.get(digest)
        if cached is None:
            with self.db.read() as conn:
                row = conn.execute(
                    select(worker_tokens.c.address, worker_tokens.c.expires_at).where(
                        worker_tokens.c.token_hash == digest
                    )
                ).first()
            if row is None:
                raise Unauthorized("Unknown worker token; log in again.")
            cached = (row[0], row[1])
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[digest] = cached
        address, expires = cached
        if expires < now:
            self._cache.pop(digest, None)
            raise Unauthorized("The worker token expired; log in again.")
        return address
