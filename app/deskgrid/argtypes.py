"""argparse types for DeskGrid's commands: each refuses a bad value with a sentence (argparse
prints it with the option's name and the usage) before anything starts or is paid."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from deskgrid.errors import DeskGridError

T = TypeVar("T")


def argument_type(check: Callable[[str], T], name: str = "value") -> Callable[[str], T]:
    """An argparse type from a check that raises DeskGridError with a sentence."""

    def convert(text: str) -> T:
        try:
            return check(text)
        except DeskGridError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name  # argparse names the type in some messages
    return convert


def whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """A whole number from `low` to `high`."""

    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise DeskGridError(f"'{text}' is not {what}: give a whole number.") from None
        if not low <= value <= high:
            raise DeskGridError(f"Give {what} from {low} to {high}, not {value}.")
        return value

    return argument_type(check, what)


def url(what: str) -> Callable[[str], str]:
    """An http(s) URL with a host (`what` names it in the sentence)."""
    from deskgrid.urls import check_url

    return argument_type(lambda text: check_url(text, what), what)
