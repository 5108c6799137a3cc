"""Split-key vanity search: the worker never learns the final private key.

The requester keeps a secret s and publishes S = s·G. The worker searches points m·(S + k·G)
for its own scalars k and the six multipliers m ∈ {±1, ±LAMBDA, ±LAMBDA²} (symmetry and
endomorphism). For a match it returns the partial key k' = m·k mod N; the final key is
f = (m·s + k') mod N, whose public key is m·S + k'·G. When m = 1 (one match in six) this is
the plain sum s + k'. The requester, who alone knows s, tries the six multipliers and keeps
the one whose address is the one found (`combine`); anyone can check a partial key against S
the same way (`split_address_matches`), which is how the grid verifies results.
"""

from __future__ import annotations

import coincurve

from deskgrid.apps.vanity.keys import address_from_private_key, address_from_public_key, wif_encode
from deskgrid.apps.vanity.secp256k1 import MULTIPLIERS, N
from deskgrid.errors import DeskGridError


def final_public_key(
    requester: coincurve.PublicKey, partial: int, multiplier: int, compressed: bool = True
) -> bytes:
    """m·S + k'·G, serialised."""
    scaled = requester.multiply((multiplier % N).to_bytes(32, "big"))
    point = coincurve.PublicKey.combine_keys(
        [scaled, coincurve.PublicKey.from_secret(partial.to_bytes(32, "big"))]
    )
    return point.format(compressed=compressed)


def split_address_matches(
    requester: coincurve.PublicKey, partial: int, address: str, compressed: bool = True
) -> bool:
    """True when m·S + partial·G has this address for one of the six multipliers."""
    if not 0 < partial < N:
        return False
    return any(
        address_from_public_key(final_public_key(requester, partial, m, compressed)) == address
        for m in MULTIPLIERS
    )


def combine(secret: int, partial: int, address: str, compressed: bool = True) -> tuple[int, str]:
    """The requester's final key (integer, WIF) from its secret and the worker's partial key.

    Raises DeskGridError when no combination gives `address` (wrong secret or wrong result).
    """
    if not 0 < partial < N:
        raise DeskGridError("The partial private key is out of range: check the result you got.")
    for m in MULTIPLIERS:
        final = (m * secret + partial) % N
        if final and address_from_private_key(final, compressed) == address:
            return final, wif_encode(final, compressed)
    raise DeskGridError(
        f"Your key and this partial key do not give the address {address}: use the secret "
        "that matches the public key you sent with the request."
    )
