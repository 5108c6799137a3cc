"""An in-memory keyring backend: tests and scripted runs (benchmarks, screenshots) use it so
that the real OS keyring is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import fail


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.secrets:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.secrets[(service, username)]


def use_memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@contextmanager
def memory_keyring_in_use() -> Iterator[MemoryKeyring]:
    """A fresh in-memory keyring for the duration; the previous backend afterwards."""
    previous = keyring.get_keyring()
    try:
        yield use_memory_keyring()
    finally:
        keyring.set_keyring(previous)


def use_no_keyring() -> None:
    keyring.set_keyring(fail.Keyring())
