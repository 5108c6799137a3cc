"""Small results reported inside a work request: decoded, checked, stored, then recorded
in one transaction (one round trip and one commit for many trivial jobs)."""

from __future__ import annotations

import base64
import binascii

from deskgrid.grid.errors import GridError
from deskgrid.grid.models import DataRef, InlineResult, ReportOutcome
from deskgrid.grid.service import GridService

MAX_INLINE_BYTES = 64 * 1024


def store_inline_results(
    grid: GridService, address: str, results: list[InlineResult]
) -> list[ReportOutcome]:
    refused: dict[int, ReportOutcome] = {}
    stored: list[tuple[int, str, DataRef]] = []
    for index, item in enumerate(results):
        try:
            content = base64.b64decode(item.content_b64, validate=True)
        except (binascii.Error, ValueError):
            refused[index] = _refusal(item.lease_id, 400, "The content is not valid base64.")
            continue
        if len(content) > MAX_INLINE_BYTES:
            detail = f"Inline results are at most {MAX_INLINE_BYTES} bytes; upload it instead."
            refused[index] = _refusal(item.lease_id, 413, detail)
            continue
        try:
            ref = grid.data.put_bytes(content, expected=item.sha256)
        except GridError as exc:
            refused[index] = _refusal(item.lease_id, exc.status, exc.message)
            continue
        stored.append((index, item.lease_id, ref))
    recorded = grid.scheduler.report_results(address, [(lid, ref) for _, lid, ref in stored])
    by_index = {index: outcome for (index, _, _), outcome in zip(stored, recorded, strict=True)}
    by_index.update(refused)
    return [by_index[index] for index in range(len(results))]


def _refusal(lease_id: str, status: int, detail: str) -> ReportOutcome:
    return ReportOutcome(lease_id=lease_id, accepted=False, status=status, detail=detail)
