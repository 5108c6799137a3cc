"""A job's result encrypted to its requester before it leaves this computer.

A lease with a `result_key` (the requester's compressed secp256k1 public key) gets its result
encrypted to that key in convergent mode (`crypto.ecies`), under the job's context (its task
id, else its job id): every honest replica of the job produces the same ciphertext, so the
grid still compares replicas by digest, while the grid, the oracle and the chain only ever
hold ciphertext. The app itself sees and writes plaintext.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from deskgrid.crypto.ecies import (
    EncryptedDataError,
    encrypt_convergent,
    encrypt_convergent_file,
    encryption_context,
)
from deskgrid.grid.models import Lease
from deskgrid.worker.runner import JobOutcome, RunnerError


def sealed_path(result_to: Path) -> Path:
    """Where the encryption of the result file `result_to` is written (next to it, with a
    name the pending store's cleaning removes if a crash leaves it)."""
    return result_to.with_name(result_to.name.removesuffix(".incoming") + ".sealed.incoming")


def seal_outcome(lease: Lease, outcome: JobOutcome, sealed_to: Path) -> JobOutcome:
    """`outcome` with its result encrypted to `lease.result_key` (a file is encrypted into
    `sealed_to` and the plaintext file removed); RunnerError with a sentence when the key is
    not a public key. Blocking: call it in a thread."""
    if not lease.result_key:
        return outcome
    try:
        key = bytes.fromhex(lease.result_key)
    except ValueError:
        raise RunnerError(
            "The job's result key is not hexadecimal; the requester must name a public key."
        ) from None
    context = encryption_context(lease.external_id, lease.job_id)
    try:
        if outcome.result_file is not None:
            encrypt_convergent_file(key, outcome.result_file, sealed_to, context)
            outcome.result_file.unlink(missing_ok=True)
            return dataclasses.replace(outcome, result_file=sealed_to, result=None)
        sealed = encrypt_convergent(key, outcome.result or b"", context)
        return dataclasses.replace(outcome, result=sealed)
    except EncryptedDataError as exc:
        raise RunnerError(
            f"The job's result could not be encrypted to its requester: {exc}"
        ) from None
