"""Connect to a chain: the embedded EVM (default), a local anvil, or any JSON-RPC URL."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCResponse

from deskgrid import boundedjson, logs
from deskgrid.chain.anvil import ANVIL_MNEMONIC, AnvilNode
from deskgrid.chain.reverts import ChainError

ChainKind = Literal["embedded", "anvil", "dev", "rpc"]
DEV_ACCOUNT_COUNT = 10


@dataclass
class Chain:
    """A connected chain.

    `dev_accounts` are funded accounts whose keys are public knowledge (embedded and anvil
    only; empty on a real network). Kind `dev` is a development chain at a URL whose funded
    keys were handed to `connect` (the local node's embedded chain served over JSON-RPC); it
    answers the same development methods as anvil. Calls into the embedded EVM must not run
    concurrently: take `lock` (TxSender and the contract wrappers do).
    """

    w3: Web3
    kind: ChainKind
    url: str | None = None
    dev_accounts: list[LocalAccount] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _tester: Any = None
    _anvil: AnvilNode | None = None

    @property
    def chain_id(self) -> int:
        with self.lock:
            return int(self.w3.eth.chain_id)

    @property
    def genesis_hash(self) -> str:
        with self.lock:
            return self.w3.eth.get_block(0)["hash"].to_0x_hex()

    @property
    def is_dev(self) -> bool:
        return self.kind in ("embedded", "anvil", "dev")

    def block_number(self) -> int:
        with self.lock:
            return int(self.w3.eth.block_number)

    def timestamp(self) -> int:
        """The latest block's timestamp."""
        with self.lock:
            return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> None:
        """Move a development chain's clock forward and mine a block."""
        with self.lock:
            if self.kind == "embedded":
                self._tester.time_travel(self.timestamp() + int(seconds))
                self._tester.mine_blocks(1)
            elif self.kind in ("anvil", "dev"):
                self.w3.provider.make_request("evm_increaseTime", [int(seconds)])
                self.w3.provider.make_request("evm_mine", [])
            else:
                raise ChainError("Only a development chain (embedded or anvil) can move its clock.")

    def mine(self) -> None:
        """Mine an empty block on a development chain (so block time moves on)."""
        with self.lock:
            if self.kind == "embedded":
                self._tester.mine_blocks(1)
            elif self.kind in ("anvil", "dev"):
                self.w3.provider.make_request("evm_mine", [])

    def snapshot(self) -> object:
        """Remember a development chain's state (see `revert`)."""
        with self.lock:
            if self.kind == "embedded":
                return self._tester.take_snapshot()
            if self.kind in ("anvil", "dev"):
                return self.w3.provider.make_request("evm_snapshot", [])["result"]
        raise ChainError("Only a development chain (embedded or anvil) can take snapshots.")

    def revert(self, snapshot: object) -> None:
        """Go back to a snapshot; nonces cached by senders must be resynchronised."""
        with self.lock:
            if self.kind == "embedded":
                self._tester.revert_to_snapshot(snapshot)
            elif self.kind in ("anvil", "dev"):
                self.w3.provider.make_request("evm_revert", [snapshot])
            else:
                raise ChainError("Only a development chain (embedded or anvil) can revert.")

    def close(self) -> None:
        if self._anvil is not None:
            self._anvil.stop()
            self._anvil = None


def _keys_redacted(accounts: list[LocalAccount]) -> list[LocalAccount]:
    """Development keys are public knowledge, but a log shows no private key at all."""
    for account in accounts:
        logs.redact(account.key)
    return accounts


def _embedded() -> Chain:
    from eth_tester import EthereumTester, PyEVMBackend

    backend = PyEVMBackend()
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    accounts = [Account.from_key(key.to_bytes()) for key in backend.account_keys]
    dev = _keys_redacted(accounts[:DEV_ACCOUNT_COUNT])
    return Chain(w3=w3, kind="embedded", dev_accounts=dev, _tester=tester)


def anvil_accounts(count: int = DEV_ACCOUNT_COUNT) -> list[LocalAccount]:
    """The funded accounts of an anvil started with the standard development mnemonic."""
    Account.enable_unaudited_hdwallet_features()
    return _keys_redacted(
        [
            Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
            for i in range(count)
        ]
    )


class BoundedHTTPProvider(HTTPProvider):
    """web3's HTTP provider, parsing replies with `deskgrid.boundedjson`: a node at a URL
    someone else runs could answer deeply nested JSON, which web3's own decoder would follow
    until the process crashes. (The reply's size is not bounded here: web3 reads it whole.)"""

    @staticmethod
    def decode_rpc_response(raw_response: bytes) -> RPCResponse:
        found = boundedjson.loads(raw_response, max_depth=64, max_bytes=None, strict_numbers=False)
        return cast(RPCResponse, found)


def _http(url: str, timeout: float) -> Web3:
    w3 = Web3(BoundedHTTPProvider(url, request_kwargs={"timeout": timeout}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        w3.eth.chain_id  # noqa: B018 - a probe: fails fast when nothing answers
    except Exception as exc:
        raise ChainError(
            f"Cannot reach the chain at {url} ({type(exc).__name__}); check the URL and that "
            "the node is running."
        ) from None
    return w3


def connect(
    spec: str = "embedded", *, timeout: float = 30.0, dev_keys: Sequence[str] = ()
) -> Chain:
    """`embedded`, `anvil` (a new local node), or an http(s) JSON-RPC URL; `dev_keys` (with a
    URL) are the funded keys of a development chain, which makes it kind `dev`."""
    if spec == "embedded":
        return _embedded()
    if spec == "anvil":
        node = AnvilNode().start()
        try:
            w3 = _http(node.url, timeout)
        except ChainError:
            node.stop()
            raise
        return Chain(w3=w3, kind="anvil", url=node.url, dev_accounts=anvil_accounts(), _anvil=node)
    if spec.startswith(("http://", "https://")):
        w3 = _http(spec, timeout)
        kind: ChainKind = "rpc"
        dev: list[LocalAccount] = []
        if dev_keys:
            kind, dev = "dev", _keys_redacted([Account.from_key(key) for key in dev_keys])
        elif int(w3.eth.chain_id) == 31337:
            # A node started from the standard development mnemonic (anvil, hardhat).
            kind, dev = "anvil", anvil_accounts()
        return Chain(w3=w3, kind=kind, url=spec, dev_accounts=dev)
    raise ChainError(
        f"'{spec}' is not a chain: use embedded, anvil, or a JSON-RPC URL such as "
        "http://127.0.0.1:8545."
    )
