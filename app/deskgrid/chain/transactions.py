"""Sending transactions: local signing, nonces, gas, fees, receipts, revert reasons."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.exceptions import TimeExhausted

from deskgrid import logs
from deskgrid.chain.connection import Chain
from deskgrid.chain.reverts import ChainError, explain

GAS_MARGIN_NUM, GAS_MARGIN_DEN = 6, 5  # estimate x 1.2
DEFAULT_PRIORITY_FEE = 1_000_000_000  # 1 gwei

SignedHook = Callable[[str, int], None]  # (tx hash, nonce), before the node sees it
AcceptedHook = Callable[[str], None]  # (tx hash), once the node accepted it


@dataclass(frozen=True)
class TxResult:
    """A mined transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    effective_gas_price: int
    receipt: Any

    @property
    def fee_wei(self) -> int:
        return self.gas_used * self.effective_gas_price


@dataclass(frozen=True)
class FeeQuote:
    """What a transaction will cost at most (wei), for a confirmation step."""

    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int | None

    @property
    def max_cost_wei(self) -> int:
        return self.gas * self.max_fee_per_gas


class TxSender:
    """Signs and sends transactions for one account, keeping its nonces in order.

    Nonces are allocated locally under a lock (so several coroutines or threads can send from
    one account) and resynchronised from the node after any failed send.
    """

    def __init__(
        self, chain: Chain, account: LocalAccount, *, receipt_timeout: float = 120.0
    ) -> None:
        self.chain = chain
        self.account = account
        self.address = account.address
        logs.redact(account.key)
        self.receipt_timeout = receipt_timeout
        self._nonce_lock = threading.Lock()
        self._next_nonce: int | None = None
        self._observers = threading.local()

    @contextmanager
    def observed(
        self, on_signed: SignedHook | None = None, on_accepted: AcceptedHook | None = None
    ) -> Iterator[None]:
        """Call `on_signed(tx_hash, nonce)` after signing and before sending, and
        `on_accepted(tx_hash)` once the node accepted it, for transactions this thread sends
        inside the block. A failing `on_signed` stops the send: nothing reaches the node."""
        previous = getattr(self._observers, "hooks", None)
        self._observers.hooks = (on_signed, on_accepted)
        try:
            yield
        finally:
            self._observers.hooks = previous

    # -- fees ---------------------------------------------------------------------------

    def _fees(self) -> dict[str, int]:
        w3 = self.chain.w3
        latest = w3.eth.get_block("latest")
        base = latest.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": int(w3.eth.gas_price)}
        try:
            priority = int(w3.eth.max_priority_fee)
        except Exception:  # not every node implements eth_maxPriorityFeePerGas
            priority = DEFAULT_PRIORITY_FEE
        return {"maxFeePerGas": int(base) * 2 + priority, "maxPriorityFeePerGas": priority}

    def quote(
        self, fn: ContractFunction | None = None, *, to: str | None = None, value: int = 0
    ) -> FeeQuote:
        """Gas and fee estimate for a confirmation dialog."""
        with self.chain.lock:
            gas = self._estimate(fn, to=to, value=value, data=None)
            fees = self._fees()
        max_fee = fees.get("maxFeePerGas", fees.get("gasPrice", 0))
        return FeeQuote(gas, max_fee, fees.get("maxPriorityFeePerGas"))

    # -- sending ------------------------------------------------------------------------

    def _estimate(
        self, fn: ContractFunction | None, *, to: str | None, value: int, data: bytes | None
    ) -> int:
        params: dict[str, Any] = {"from": self.address, "value": value}
        try:
            if fn is not None:
                gas = fn.estimate_gas(params)
            else:
                params.update({"to": to, "data": HexBytes(data or b"")})
                gas = self.chain.w3.eth.estimate_gas(params)
        except Exception as exc:
            raise explain(exc) from None
        return int(gas) * GAS_MARGIN_NUM // GAS_MARGIN_DEN

    def _take_nonce(self) -> int:
        with self._nonce_lock:
            if self._next_nonce is None:
                self._next_nonce = int(
                    self.chain.w3.eth.get_transaction_count(self.address, "pending")
                )
            nonce = self._next_nonce
            self._next_nonce += 1
            return nonce

    def resync_nonce(self) -> None:
        with self._nonce_lock:
            self._next_nonce = None

    def send(
        self,
        fn: ContractFunction | None = None,
        *,
        to: str | None = None,
        value: int = 0,
        data: bytes | None = None,
        gas: int | None = None,
    ) -> TxResult:
        """Sign and send a contract call (or a plain transfer), wait for its receipt."""
        w3 = self.chain.w3
        with self.chain.lock:
            if gas is None:
                gas = self._estimate(fn, to=to, value=value, data=data)
            tx: dict[str, Any] = {
                "from": self.address,
                "value": value,
                "gas": gas,
                "chainId": int(w3.eth.chain_id),
                **self._fees(),
            }
            if fn is not None:
                tx = fn.build_transaction(tx)
            else:
                tx.update({"to": to, "data": HexBytes(data or b"")})
            tx["nonce"] = self._take_nonce()
            signed = self.account.sign_transaction(tx)
            on_signed, on_accepted = getattr(self._observers, "hooks", None) or (None, None)
            if on_signed is not None:
                try:
                    on_signed(HexBytes(signed.hash).to_0x_hex(), int(tx["nonce"]))
                except BaseException:
                    self.resync_nonce()
                    raise
            try:
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            except Exception as exc:
                self.resync_nonce()
                raise explain(exc) from None
        if on_accepted is not None:
            on_accepted(HexBytes(tx_hash).to_0x_hex())
        return self._wait(tx_hash, tx)

    def _wait(self, tx_hash: bytes, tx: dict[str, Any]) -> TxResult:
        w3 = self.chain.w3
        try:
            if self.chain.kind == "embedded":
                with self.chain.lock:
                    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=5)
            else:
                receipt = w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=self.receipt_timeout, poll_latency=0.1
                )
        except TimeExhausted:
            raise ChainError(
                f"Transaction {HexBytes(tx_hash).to_0x_hex()} was not mined within "
                f"{self.receipt_timeout:.0f} s; check the network, then look it up by its hash "
                "before sending again."
            ) from None
        if receipt["status"] != 1:
            self._raise_reason(tx, receipt)
        return TxResult(
            tx_hash=HexBytes(tx_hash).to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            effective_gas_price=int(receipt.get("effectiveGasPrice", 0) or 0),
            receipt=receipt,
        )

    def _raise_reason(self, tx: dict[str, Any], receipt: Any) -> None:
        call = {k: tx[k] for k in ("from", "to", "value", "data", "gas") if k in tx}
        try:
            with self.chain.lock:
                self.chain.w3.eth.call(call, block_identifier=receipt["blockNumber"] - 1)
        except Exception as exc:
            raise explain(exc) from None
        raise ChainError(
            f"Transaction {receipt['transactionHash'].to_0x_hex()} failed on chain; it may have "
            "run out of gas: send it again with a higher gas limit."
        )
