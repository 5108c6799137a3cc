"""The demo faucet: on a development chain, RLC from the deployment's faucet account and ETH
(for fees) from the same funded development account."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import RLCToken
from deskgrid.chain.reverts import ChainError
from deskgrid.chain.transactions import TxResult, TxSender
from deskgrid.money import NRLC_PER_RLC

FAUCET_RLC = 1_000 * NRLC_PER_RLC
FAUCET_ETH = 10 * 10**18


@dataclass(frozen=True)
class FaucetGift:
    asset: str
    amount: int
    result: TxResult
    source: str


class DemoFaucet:
    def __init__(
        self,
        chain: Chain,
        rlc_address: str,
        faucet_address: str,
        *,
        rlc_amount: int = FAUCET_RLC,
        eth_amount: int = FAUCET_ETH,
    ) -> None:
        account = next((a for a in chain.dev_accounts if a.address == faucet_address), None)
        if not chain.is_dev or account is None:
            raise ChainError(
                "The faucet exists only on the demo chain; on a real network get RLC and ETH "
                "from an exchange or a testnet faucet."
            )
        self.chain = chain
        self.rlc = RLCToken(chain, rlc_address)
        self.sender = TxSender(chain, account)
        self.rlc_amount = rlc_amount
        self.eth_amount = eth_amount
        self._lock = threading.Lock()

    def fund(self, address: str) -> list[FaucetGift]:
        """Send the demo amounts of RLC and ETH to `address`."""
        with self._lock:
            gifts = []
            if self.rlc_amount:
                result = self.rlc.transfer(self.sender, address, self.rlc_amount)
                gifts.append(FaucetGift("RLC", self.rlc_amount, result, self.sender.address))
            if self.eth_amount:
                result = self.sender.send(to=address, value=self.eth_amount)
                gifts.append(FaucetGift("ETH", self.eth_amount, result, self.sender.address))
            return gifts
