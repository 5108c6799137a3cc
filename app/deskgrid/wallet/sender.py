"""A TxSender that reports each transaction's hash as soon as the node accepts it, so the
history can show it as pending before it is mined."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from deskgrid.chain.connection import Chain
from deskgrid.chain.transactions import TxResult, TxSender

SentHook = Callable[[str], None]


class RecordingTxSender(TxSender):
    def __init__(self, chain: Chain, account: LocalAccount, **kwargs: Any) -> None:
        super().__init__(chain, account, **kwargs)
        self._hooks = threading.local()

    @contextmanager
    def reporting(self, hook: SentHook) -> Iterator[None]:
        """Call `hook(tx_hash)` for transactions sent by this thread inside the block."""
        previous = getattr(self._hooks, "hook", None)
        self._hooks.hook = hook
        try:
            yield
        finally:
            self._hooks.hook = previous

    def _wait(self, tx_hash: bytes, tx: dict[str, Any]) -> TxResult:
        hook = getattr(self._hooks, "hook", None)
        if hook is not None:
            hook(HexBytes(tx_hash).to_0x_hex())
        return super()._wait(tx_hash, tx)
