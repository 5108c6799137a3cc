"""The committed contract artifacts are what the pinned compiler makes of the sources."""

import json
import subprocess

from deskgrid.chain.artifacts import CONTRACT_NAMES, load_artifact
from tests.conftest import REPO_ROOT, find_tool, require


def test_artifacts_match_a_fresh_compile(tmp_path):
    node = find_tool("node")
    solc = REPO_ROOT / "contracts" / "node_modules" / "solc"
    require(node is not None, "node is not installed")
    require(solc.exists(), "solc is not installed: run `npm ci --prefix contracts`")
    subprocess.run(
        [node, str(REPO_ROOT / "contracts" / "compile.js"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name in CONTRACT_NAMES:
        fresh = json.loads((tmp_path / f"{name}.json").read_text())
        shipped = load_artifact(name)
        assert fresh["bytecode"] == shipped.bytecode, (
            f"{name} artifact is stale: run `npm run compile --prefix contracts` and commit"
        )
        assert fresh["abi"] == shipped.abi
