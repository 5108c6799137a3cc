"""Turning a submission into a job row: the app's own parameter check, the inputs, and the
replication policy resolved against the server's defaults."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deskgrid.apps.sdk import AppParamsError, AppSpec
from deskgrid.grid.config import GridConfig
from deskgrid.grid.datastore import DataStore
from deskgrid.grid.errors import Unprocessable
from deskgrid.grid.models import JobSubmit
from deskgrid.grid.states import JobState
from deskgrid.grid.store import new_id


def resolve_submission(
    request: JobSubmit,
    catalog: Mapping[str, AppSpec],
    data: DataStore,
    config: GridConfig,
    now: float,
) -> dict[str, Any]:
    spec = catalog.get(request.app)
    if spec is None:
        known = ", ".join(sorted(catalog)) or "none"
        raise Unprocessable(f"This grid has no app named {request.app!r} (it has: {known}).")
    try:
        params = spec.validate(dict(request.params))
    except AppParamsError as exc:
        raise Unprocessable(f"{request.app}: {exc}") from None
    except Exception as exc:  # an app's validator must not turn bad input into a 500
        raise Unprocessable(f"{request.app} refused these parameters ({exc}).") from None
    try:
        params_json = json.dumps(params, separators=(",", ":"), allow_nan=False)
        # JSON escapes can carry half of a UTF-16 pair ("\ud800"), which no reply could encode.
        json.dumps(params, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Unprocessable(
            "The parameters hold a lone surrogate escape (such as \\ud800), which is not a "
            "character; send valid Unicode text."
        ) from None
    except (TypeError, ValueError):
        raise Unprocessable("The parameters must be plain JSON with finite numbers.") from None
    if len(params_json) > config.max_json_bytes:
        raise Unprocessable("The parameters are too large; pass big data as an input file.")
    inputs = []
    for ref in request.inputs:
        size = data.touch(ref.sha256)  # named now: collection keeps it a grace period more
        if size is None:
            raise Unprocessable(
                f"Input {ref.name!r} ({ref.sha256}) is not stored on this grid; upload it first."
            )
        inputs.append({"name": ref.name, "sha256": ref.sha256, "size": size})
    if len({item["name"] for item in inputs}) != len(inputs):
        raise Unprocessable("Two inputs have the same name; give each input its own name.")
    if request.deadline is not None and request.deadline <= now:
        raise Unprocessable("The deadline is already past; give a time in the future.")

    d, p = config.defaults, request.policy
    min_agree = _min_agree(request, config)
    target = p.target_nresults or max(d.target_nresults, p.min_quorum or 1, min_agree or 1)
    quorum = p.min_quorum or min(d.min_quorum, target)
    if min_agree is not None:  # the credibility vote: min_agree replicas to start with
        target, quorum = max(target, min_agree), min_agree
    if quorum > target:
        raise Unprocessable("min_quorum cannot exceed target_nresults.")
    max_total = p.max_total_results or max(d.max_total_results, target)
    if max_total < target:
        raise Unprocessable("max_total_results cannot be smaller than target_nresults.")
    verifiable = spec.verifiable
    eff_target, eff_quorum = (1, 1) if verifiable else (target, quorum)
    return {
        "id": new_id(),
        "external_id": request.external_id,
        "app": spec.name,
        "app_version": spec.version,
        "params": params_json,
        "inputs": json.dumps(inputs, separators=(",", ":")),
        "state": JobState.PENDING.value,
        "priority": request.priority,
        "target_nresults": target,
        "min_quorum": quorum,
        "max_error_results": p.max_error_results or d.max_error_results,
        "max_total_results": max_total,
        "delay_bound": p.delay_bound or d.delay_bound,
        "max_runtime": float(spec.resources.max_seconds),
        "deadline": request.deadline,
        # never unreplicated when distinct stakeholders must agree
        "adaptive": int(p.adaptive and (min_agree is None or min_agree < 2)),
        "verifiable": int(verifiable),
        "eff_target": eff_target,
        "eff_quorum": eff_quorum,
        "need_cores": spec.resources.cores,
        "need_memory_mb": spec.resources.memory_mb,
        "need_docker": int(spec.resources.docker),
        "n_wanted": eff_target,
        "n_in_progress": 0,
        "n_success": 0,
        "n_errors": 0,
        "n_total": 0,
        "progress": 0.0,
        "keys_per_s": 0.0,
        "created_at": now,
        "updated_at": now,
        "trust": p.trust,
        "min_agree": min_agree,
        "stake": p.stake,
        "result_key": request.result_key,
    }


MAX_STAKE = 2**63 - 1  # a database integer; the whole RLC supply is far less (8.7e16 nRLC)


def _min_agree(request: JobSubmit, config: GridConfig) -> int | None:
    """The distinct stakeholders that must agree on a trust job's outcome (None: not a trust
    job); checks the policy's trust fields."""
    p = request.policy
    if p.stake > MAX_STAKE:
        raise Unprocessable(f"policy.stake is at most {MAX_STAKE} nRLC (more than all RLC).")
    if p.trust is None:
        if p.min_agree is not None:
            raise Unprocessable("policy.min_agree needs policy.trust (the job's trust level).")
        return None
    level = config.trust_levels.get(p.trust)
    if level is None:
        known = ", ".join(str(n) for n in sorted(config.trust_levels))
        raise Unprocessable(f"This grid has no trust level {p.trust} (it has: {known}).")
    if p.min_agree is not None:
        return p.min_agree
    return level.min_agree if level.min_agree < 2 else max(level.min_agree, config.min_agree)
