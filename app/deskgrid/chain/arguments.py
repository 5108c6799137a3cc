"""Chain values typed on a command line: an address as an argparse type (a sentence for a
malformed one), and a hub address checked against the chain before it is used (a sentence
when no contract is there, instead of a failed call deep inside a command)."""

from __future__ import annotations

from collections.abc import Callable

from deskgrid.argtypes import argument_type
from deskgrid.chain.addresses import check_address
from deskgrid.chain.connection import Chain
from deskgrid.chain.contracts import HubContract
from deskgrid.chain.reverts import ChainError


def address(what: str) -> Callable[[str], str]:
    """An Ethereum address (0x + 40 hex digits, EIP-55 checksum if mixed case), checksummed."""
    return argument_type(lambda text: check_address(text, what=what), "address")


def open_hub(chain: Chain, address: str) -> HubContract:
    """The hub at `address`; a ChainError with a sentence when `address` holds no contract."""
    with chain.lock:
        code = chain.w3.eth.get_code(chain.w3.to_checksum_address(address))
    if len(code) == 0:
        where = f" ({chain.url})" if chain.url else ""
        raise ChainError(
            f"There is no hub contract at {address} on chain {chain.chain_id}{where}; check "
            "--hub and that --chain is the network the hub was deployed on."
        )
    return HubContract(chain, address)
