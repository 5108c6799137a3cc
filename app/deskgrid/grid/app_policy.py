"""Which of the hub's published (Docker) apps a grid serves: the operator's policy file.

    {"docker_apps": "none"}                       the default: built-in apps only
    {"docker_apps": "all"}                        every consistent, unretired published app
    {"docker_apps": "allow-list", "apps": [3, 7], "owners": ["0x…"], "images": ["sha256:…"]}

With an allow-list an app is served when its id, its owner (the address that published it) or
its image id is listed. Retired apps and apps whose manifest disagrees with the hub are never
served, whatever the policy says.

    policy = load_policy(path)        # AppPolicyError with a sentence
    policy.allows(app_id, owner, image_id)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deskgrid.errors import DeskGridError

MAX_POLICY_BYTES = 1 << 20
EXAMPLE = '{"docker_apps": "allow-list", "apps": [3], "owners": [], "images": []}'

Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
ImageId = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


class AppPolicyError(DeskGridError):
    """A policy file that cannot be used; the message says what to change."""


class AppPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    docker_apps: Literal["none", "all", "allow-list"] = "none"
    apps: tuple[Annotated[int, Field(ge=1)], ...] = ()
    owners: tuple[Address, ...] = ()
    images: tuple[ImageId, ...] = ()

    def allows(self, app_id: int, owner: str, image_id: str) -> bool:
        """Whether the published app `app_id` of `owner`, running `image_id`, is served."""
        if self.docker_apps == "all":
            return True
        if self.docker_apps == "none":
            return False
        owners = {address.lower() for address in self.owners}
        return app_id in self.apps or owner.lower() in owners or image_id in self.images

    def describe(self) -> str:
        """One line for the operator: what this policy serves."""
        if self.docker_apps != "allow-list":
            return {"none": "no published apps", "all": "every published app"}[self.docker_apps]
        listed = [f"apps {', '.join(map(str, self.apps))}"] if self.apps else []
        listed += [f"{len(self.owners)} owner(s)"] if self.owners else []
        listed += [f"{len(self.images)} image(s)"] if self.images else []
        return "published apps of the allow-list: " + ("; ".join(listed) or "none listed")


NO_DOCKER_APPS = AppPolicy()


def parse_policy(data: bytes | str, *, where: str = "The app policy") -> AppPolicy:
    """The policy in `data` (JSON), or AppPolicyError with a sentence."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise AppPolicyError(f"{where} is not JSON ({exc}); write it like {EXAMPLE}.") from None
    if not isinstance(doc, dict):
        raise AppPolicyError(f"{where} must be a JSON object such as {EXAMPLE}.")
    try:
        policy = AppPolicy.model_validate(doc)
    except ValidationError as exc:
        raise AppPolicyError(f"{where} is not valid: {_sentences(exc)}.") from None
    if policy.docker_apps != "allow-list" and (policy.apps or policy.owners or policy.images):
        raise AppPolicyError(
            f'{where} lists apps, owners or images, which only "docker_apps": "allow-list" '
            "reads; use the allow-list or remove the lists."
        )
    return policy


def load_policy(path: Path) -> AppPolicy:
    """The policy file at `path`, or AppPolicyError with a sentence."""
    where = f"The app policy {path}"
    try:
        with path.open("rb") as file:
            data = file.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise AppPolicyError(
            f"{where} does not exist; write one such as {EXAMPLE} "
            '(or {"docker_apps": "none"} to serve no published app).'
        ) from None
    except OSError as exc:
        raise AppPolicyError(f"{where} cannot be read ({exc.strerror}).") from None
    if len(data) > MAX_POLICY_BYTES:
        raise AppPolicyError(f"{where} is larger than {MAX_POLICY_BYTES} bytes; list less.")
    return parse_policy(data, where=where)


def _sentences(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "the document"
        if error["type"] == "extra_forbidden":
            message = "is not a policy field (the fields: docker_apps, apps, owners, images)"
        elif error["type"] == "literal_error":
            message = 'must be "none", "all" or "allow-list"'
        elif error["type"] == "string_pattern_mismatch" and where.startswith("owners"):
            message = "must be an address, 0x and 40 hex digits"
        elif error["type"] == "string_pattern_mismatch" and where.startswith("images"):
            message = "must be an image id, sha256: and 64 hex digits"
        else:
            message = str(error["msg"])
        parts.append(f"{where} {message}")
    return "; ".join(parts)
