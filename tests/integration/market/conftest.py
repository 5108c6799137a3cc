"""The marketplace on the embedded chain (the chain tests' fixtures) and the example apps'
images (the examples tests' fixture, which skips without Docker)."""

from tests.integration.examples.conftest import examples  # noqa: F401 - a fixture
from tests.unit.chain.conftest import deployed_chain, market  # noqa: F401 - fixtures
