"""Refusals the grid core raises; the API turns each into its HTTP status and sentence."""

from __future__ import annotations

from deskgrid.errors import DeskGridError


class GridError(DeskGridError):
    status = 400


class BadRequest(GridError):
    status = 400


class Unauthorized(GridError):
    status = 401


class Forbidden(GridError):
    status = 403


class NotFound(GridError):
    status = 404


class Conflict(GridError):
    status = 409


class TooLarge(GridError):
    status = 413


class Unprocessable(GridError):
    status = 422


class RateLimited(GridError):
    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InsufficientStorage(GridError):
    status = 507
