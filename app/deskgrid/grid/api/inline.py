"""Small results reported inside a work request: decoded and checked here; the scheduler
stores their bytes (database rows) and records them in the same transaction as the request's
new leases (one round trip and one commit for many trivial jobs)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from deskgrid.grid.datastore import SMALL_BLOB_BYTES, DataStore
from deskgrid.grid.errors import GridError
from deskgrid.grid.models import DataRef, InlineResult, ReportOutcome

MAX_INLINE_BYTES = SMALL_BLOB_BYTES


@dataclass
class InlineBatch:
    """The checked results to record (`to_record`, their small contents in `blobs`) and the
    ones refused before that."""

    size: int
    to_record: list[tuple[str, DataRef]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    refused: dict[int, ReportOutcome] = field(default_factory=dict)

    def outcomes(self, recorded: list[ReportOutcome]) -> list[ReportOutcome]:
        """Every reported result's outcome, in the order the worker sent them."""
        by_index = dict(zip(self.positions, recorded, strict=True))
        by_index.update(self.refused)
        return [by_index[index] for index in range(self.size)]


def store_inline_results(data: DataStore, results: list[InlineResult]) -> InlineBatch:
    batch = InlineBatch(size=len(results))
    for index, item in enumerate(results):
        try:
            content = base64.b64decode(item.content_b64, validate=True)
        except (binascii.Error, ValueError):
            batch.refused[index] = _refusal(item.lease_id, 400, "The content is not valid base64.")
            continue
        if len(content) > MAX_INLINE_BYTES:
            detail = f"Inline results are at most {MAX_INLINE_BYTES} bytes; upload it instead."
            batch.refused[index] = _refusal(item.lease_id, 413, detail)
            continue
        try:
            if data.is_small(len(content)):
                ref = data.check(content, expected=item.sha256)
                batch.blobs[ref.sha256] = content
            else:
                ref = data.put_bytes(content, expected=item.sha256)
        except GridError as exc:
            batch.refused[index] = _refusal(item.lease_id, exc.status, exc.message)
            continue
        batch.positions.append(index)
        batch.to_record.append((item.lease_id, ref))
    return batch


def _refusal(lease_id: str, status: int, detail: str) -> ReportOutcome:
    return ReportOutcome(lease_id=lease_id, accepted=False, status=status, detail=detail)
