"""Errors a person can act on: each carries a sentence that says what to do."""


class DeskGridError(Exception):
    """Base class for errors shown to a person as a sentence, never as a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
