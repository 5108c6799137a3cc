"""The live grid fixture for the worker tests."""

from tests.live_grid import grid  # noqa: F401 - a fixture
