"""`ChainRetry`: what `deskgrid run vanity` does when the chain stops answering after the
payment — retry a read with backoff while the node does not answer, give up with a sentence
after the window, never retry a contract's refusal."""

from __future__ import annotations

import pytest

from deskgrid.chain.reverts import ChainError, ContractRevert
from deskgrid.node.requester import ChainRetry, ChainUnreachable, is_connection_trouble

URL = "http://127.0.0.1:8545"


def flaky(failures: list[BaseException], value: str = "read"):
    """An async read that raises each of `failures` in turn, then returns `value`."""
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return value

    return attempt, calls


async def test_a_read_that_fails_twice_is_retried_with_a_line_each_time():
    said: list[str] = []
    retry = ChainRetry(URL, 60.0, said.append, first=0.01, cap=0.02)
    attempt, calls = flaky([ConnectionError("refused"), ChainError("The chain refused: down")])
    assert await retry.call(attempt) == "read"
    assert len(calls) == 3
    assert [line.split(";")[0] for line in said] == [
        f"the chain at {URL} does not answer (ConnectionError)",
        f"the chain at {URL} does not answer (ChainError)",
    ]
    assert "retry 1 in 0 s" in said[0] and "retry 2 in 0 s" in said[1]


async def test_a_chain_that_stays_away_ends_in_a_sentence():
    said: list[str] = []
    retry = ChainRetry(URL, 0.05, said.append, first=0.01, cap=0.01)
    attempt, calls = flaky([TimeoutError()] * 1000)
    with pytest.raises(ChainUnreachable) as stopped:
        await retry.call(attempt)
    assert str(stopped.value).startswith(f"The chain at {URL} has not answered for ")
    assert "(TimeoutError)" in str(stopped.value)
    assert len(said) == len(calls) - 1 >= 2  # one line per retry


async def test_a_contract_refusal_is_not_retried():
    revert = ContractRevert("TaskNotActive", {}, "The task is not active.")
    retry = ChainRetry(URL, 60.0, first=0.01)
    attempt, calls = flaky([revert])
    with pytest.raises(ContractRevert):
        await retry.call(attempt)
    assert len(calls) == 1
    assert not is_connection_trouble(revert) and not is_connection_trouble(ValueError())
    assert is_connection_trouble(ConnectionRefusedError()) and is_connection_trouble(
        ChainError("x")
    )
