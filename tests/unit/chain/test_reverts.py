from eth_abi import encode
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from deskgrid.chain.reverts import decode_revert, explain, revert_data


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def test_error_string_and_panic():
    data = selector("Error(string)") + encode(["string"], ["no way"])
    assert str(decode_revert(data)) == "The contract refused: no way."
    data = selector("Panic(uint256)") + encode(["uint256"], [0x11])
    assert "panic 0x11" in str(decode_revert(data))


def test_unknown_and_short_data():
    assert "unknown error 0xdeadbeef" in str(decode_revert(bytes.fromhex("deadbeef")))
    assert "without giving a reason" in str(decode_revert(b""))


def test_malformed_arguments_still_give_a_sentence():
    data = selector("PriceAboveMax(uint256,uint256)") + b"\x01"
    message = str(decode_revert(data))
    assert message.startswith("The contract refused the call: PriceAboveMax")


def test_named_error_sentence_formats_rlc_exactly():
    data = selector("PriceAboveMax(uint256,uint256)") + encode(
        ["uint256", "uint256"], [5_000_000_001, 5_000_000_000]
    )
    revert = decode_revert(data)
    assert revert.name == "PriceAboveMax"
    assert str(revert) == (
        "The task costs 5.000000001 RLC, more than your maximum of 5 RLC; raise the maximum "
        "price or choose a cheaper app."
    )


def test_revert_data_from_both_kinds_of_exception():
    raw = selector("ZeroAmount()")
    tester = TransactionFailed(f"execution reverted: {raw!r}")
    assert revert_data(tester) == raw
    custom = ContractCustomError("0x" + raw.hex(), data="0x" + raw.hex())
    assert revert_data(custom) == raw
    assert explain(custom).name == "ZeroAmount"


def test_other_failures_are_sentences():
    assert "not enough ETH" in str(explain(ValueError("insufficient funds for gas * price")))
    assert str(explain(RuntimeError("boom"))) == "The chain refused the transaction: boom"
