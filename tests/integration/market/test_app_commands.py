"""`deskgrid app publish | list | show | set-price | retire` on the real embedded chain served
over JSON-RPC on loopback: the example apps published with their image ids read from Docker
(or, without Docker, a manifest with its id written in), read back and checked, re-priced and
retired by their owner only, and an app whose manifest disagrees with the hub flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deskgrid.chain.keyfile import PASSWORD_ENV, write_key_file
from deskgrid.chain.rpc_server import ChainRpcServer
from deskgrid.cli import main
from deskgrid.market.manifest import load_document, with_image_id
from deskgrid.money import NRLC_PER_RLC as RLC
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
PASSWORD = "a long password"
EXAMPLES = REPO_ROOT / "examples" / "apps"
IMAGE_ID = "sha256:" + "9b" * 32


class Cli:
    """`deskgrid app …` against the market's hub, signed by dev account `signer`."""

    def __init__(self, url: str, hub: str, keys: dict[int, Path], capsys) -> None:
        self.url, self.hub, self.keys, self.capsys = url, hub, keys, capsys

    def run(self, *args: str, signer: int | None = None) -> tuple[int, str, str]:
        line = ["app", *args, "--chain", self.url, "--hub", self.hub]
        if signer is not None:
            line += ["--key-file", str(self.keys[signer]), "--yes"]
        code = main(line)
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def json(self, *args: str, signer: int | None = None) -> Any:
        code, out, err = self.run(*args, "--json", signer=signer)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(market, tmp_path, monkeypatch, capsys):
    server = ChainRpcServer(market.chain)
    url = server.start()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    keys = {
        i: write_key_file(market.account(i), tmp_path / f"key{i}.json", PASSWORD) for i in (5, 6)
    }
    yield Cli(url, market.hub.address, keys, capsys)
    server.stop()


def manifest_file(tmp_path: Path, app: str, image_id: str | None) -> Path:
    """The example's manifest, with `image_id` written in (None: the placeholder kept)."""
    path = EXAMPLES / app / "manifest.json"
    if image_id is None:
        return path
    doc = with_image_id(load_document(path.read_bytes()), image_id)
    written = tmp_path / f"{app}.json"
    written.write_text(json.dumps(doc), encoding="utf-8")
    return written


def test_publish_list_show_reprice_and_retire(cli, market, tmp_path):
    manifest = manifest_file(tmp_path, "montecarlo", IMAGE_ID)
    code, out, err = cli.run("publish", "--manifest", str(manifest), "--price", "0.5", signer=5)
    assert code == 0, err
    assert "published app #3 'montecarlo' 1 at 0.5 RLC per task" in out and " gas)" in out
    report = cli.json("publish", "--manifest", str(manifest), "--price", "2", signer=5)
    assert set(report) == {"app_id", "tx", "gas", "uri", "params_schema_hash", "archive_sha256"}
    app_id = report["app_id"]
    assert app_id == 4 and report["uri"] == "docker:" + IMAGE_ID and report["gas"] > 21_000
    assert market.hub.app(app_id).price == 2 * RLC

    listed = {app["id"]: app for app in cli.json("list")}
    assert listed[market.vanity]["kind"] == "builtin" and listed[market.vanity]["consistent"]
    mine = listed[app_id]
    assert (mine["name"], mine["version"], mine["kind"]) == ("montecarlo", "1", "docker")
    assert mine["owner"] == market.account(5).address and mine["price_nrlc"] == 2 * RLC
    assert mine["consistent"] and mine["uri"] == report["uri"]
    assert mine["params_schema_hash"] == report["params_schema_hash"]
    shown = cli.json("show", str(app_id))
    assert shown["manifest"]["image"]["id"] == IMAGE_ID
    assert shown["manifest"]["params_schema"] == json.loads(
        (EXAMPLES / "montecarlo" / "schema.json").read_text(encoding="utf-8")
    )
    code, out, _ = cli.run("show", str(app_id))
    assert code == 0 and f"#{app_id}" in out and '"max_seconds": 600' in out

    changed = cli.json("set-price", str(app_id), "3.25", signer=5)
    assert changed["app_id"] == app_id and changed["gas"] > 0
    assert market.hub.app(app_id).price == 3_250_000_000
    retired = cli.json("retire", str(app_id), signer=5)
    assert retired["app_id"] == app_id and market.hub.app(app_id).retired
    assert app_id not in {app["id"] for app in cli.json("list")}
    everything = {app["id"]: app for app in cli.json("list", "--all")}
    assert everything[app_id]["retired"] is True
    code, out, _ = cli.run("list", "--all")
    assert code == 0 and "retired" in out and "montecarlo" in out


def test_only_the_owner_changes_an_app(cli, market, tmp_path):
    manifest = manifest_file(tmp_path, "montecarlo", IMAGE_ID)
    app_id = cli.json("publish", "--manifest", str(manifest), "--price", "1", signer=5)["app_id"]
    for action in (("set-price", str(app_id), "9"), ("retire", str(app_id))):
        code, _, err = cli.run(*action, signer=6)
        assert code == 2
        assert f"App #{app_id} belongs to {market.account(5).address}, not to" in err
        assert "sign with the owner's --key-file" in err
    assert market.hub.app(app_id).price == RLC and not market.hub.app(app_id).retired


def test_refusals_are_sentences(cli, market, tmp_path):
    placeholder = manifest_file(tmp_path, "wordfreq", None)
    code, _, err = cli.run("publish", "--manifest", str(placeholder), "--price", "1", signer=5)
    assert code == 2 and "image.id must be the image's content id" in err
    assert "--image" in err
    manifest = manifest_file(tmp_path, "wordfreq", IMAGE_ID)
    line = ["app", "publish", "--manifest", str(manifest), "--price", "1"]
    line += ["--chain", cli.url, "--hub", cli.hub, "--key-file", str(cli.keys[5])]
    assert main(line) == 2  # no --yes, and no terminal to ask in
    assert "Add --yes to publish without a terminal" in cli.capsys.readouterr().err
    code, _, err = cli.run("show", "99")
    assert code == 2 and "App #99 is not registered" in err
    assert market.hub.app_count() == 2  # nothing was published


def test_an_app_whose_manifest_disagrees_is_flagged(cli, market, tmp_path):
    """A manifest published with another schema hash or another image than the hub's URI."""
    from deskgrid.market.manifest import canonical_json, manifest_from

    doc = with_image_id(
        load_document((EXAMPLES / "montecarlo" / "manifest.json").read_bytes()), IMAGE_ID
    )
    manifest = manifest_from(doc)
    data = canonical_json(manifest)
    dev = market.sender(5)
    wrong_hash = market.hub.publish_app(dev, "montecarlo", manifest.uri, b"\1" * 32, 1, data)
    other_uri = "docker:sha256:" + "00" * 32
    params_hash = manifest.params_schema_hash
    wrong_image = market.hub.publish_app(dev, "montecarlo", other_uri, params_hash, 1, data)
    listed = {app["id"]: app for app in cli.json("list")}
    assert listed[wrong_hash.app_id]["consistent"] is False
    assert "does not hash to the schema hash on chain" in listed[wrong_hash.app_id]["problem"]
    assert listed[wrong_image.app_id]["consistent"] is False
    assert "does not name its manifest's image" in listed[wrong_image.app_id]["problem"]
    code, out, _ = cli.run("list")
    assert code == 0 and out.count("INCONSISTENT") == 2


def test_publish_the_examples_with_their_docker_images(cli, examples):
    """`--image` reads each example's id from the local daemon: the published URI is the
    image's content id, which the build printed."""
    for app in ("wordfreq", "montecarlo"):
        manifest = EXAMPLES / app / "manifest.json"
        code, out, err = cli.run(
            "publish", "--manifest", str(manifest), "--price", "1",
            "--image", examples.images[app], signer=5,
        )  # fmt: skip
        assert code == 0, err
        app_id = int(out.split("published app #")[1].split()[0])
        shown = cli.json("show", str(app_id))
        assert shown["uri"] == "docker:" + examples.ids[app]
        assert shown["manifest"]["image"]["id"] == examples.ids[app]
        assert shown["consistent"] and shown["kind"] == "docker"
    code, _, err = cli.run(
        "publish", "--manifest", str(EXAMPLES / "wordfreq" / "manifest.json"), "--price", "1",
        "--image", "deskgrid-example/wordfreq:no-such-tag", signer=5,
    )  # fmt: skip
    assert code == 2 and "Docker has no image 'deskgrid-example/wordfreq:no-such-tag'" in err
