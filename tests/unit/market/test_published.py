"""Reading an app of the hub: its kind from its URI, and a published app checked against its
manifest (the schema hash and the image id on chain must be the manifest's)."""

from __future__ import annotations

import dataclasses
import json

from deskgrid.chain.contracts import AppInfo
from deskgrid.market.manifest import canonical_json, load_document, manifest_from, with_image_id
from deskgrid.market.published import check_published
from tests.conftest import REPO_ROOT

IMAGE_ID = "sha256:" + "9b" * 32
MANIFEST = manifest_from(
    with_image_id(
        load_document((REPO_ROOT / "examples/apps/montecarlo/manifest.json").read_bytes()),
        IMAGE_ID,
    )
)
OWNER = "0x" + "11" * 20
APP = AppInfo(7, OWNER, "montecarlo", MANIFEST.uri, MANIFEST.params_schema_hash, 5, False, 42)


def test_a_published_app_that_matches_its_manifest_is_consistent():
    listed = check_published(APP, canonical_json(MANIFEST))
    assert listed.kind == "docker" and listed.consistent and listed.problem is None
    assert listed.manifest == MANIFEST
    doc = listed.to_json(with_manifest=True)
    assert doc["version"] == "1" and doc["registered_block"] == 42
    assert doc["manifest"]["image"]["id"] == IMAGE_ID
    assert json.loads(json.dumps(doc)) == doc


def test_a_builtin_app_needs_no_manifest():
    vanity = dataclasses.replace(APP, name="vanity", uri="builtin:vanity@1.0.0")
    listed = check_published(vanity, None)
    assert listed.kind == "builtin" and listed.consistent and listed.manifest is None
    assert listed.to_json()["version"] is None


def test_inconsistent_apps_say_why():
    cases = {
        "does not hash to the schema hash on chain": (
            dataclasses.replace(APP, params_schema_hash=b"\1" * 32),
            canonical_json(MANIFEST),
        ),
        "does not name its manifest's image": (
            dataclasses.replace(APP, uri="docker:sha256:" + "00" * 32),
            canonical_json(MANIFEST),
        ),
        "its manifest names it 'montecarlo', the hub 'other'": (
            dataclasses.replace(APP, name="other"),
            canonical_json(MANIFEST),
        ),
        "registered without a manifest": (APP, None),
        "Its manifest is not usable JSON": (APP, b"{not json"),
        "Its manifest is not valid: verifier must be null": (
            APP,
            json.dumps({**json.loads(canonical_json(MANIFEST)), "verifier": "x"}).encode(),
        ),
        "is of no known kind": (dataclasses.replace(APP, uri="ipfs://x"), None),
    }
    for problem, (info, manifest) in cases.items():
        listed = check_published(info, manifest)
        assert not listed.consistent
        assert problem in (listed.problem or ""), (problem, listed.problem)
        assert listed.to_json()["consistent"] is False
