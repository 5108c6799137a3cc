"""The embedded-chain market fixtures of the chain tests, shared here."""

from tests.unit.chain.conftest import deployed_chain, market  # noqa: F401
