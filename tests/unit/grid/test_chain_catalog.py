"""The grid's catalog following the hub on the embedded chain: which published apps each policy
serves (never a retired or inconsistent one), the policy file read again when it changes (a
bad one keeps the previous), the chain read incrementally, and a chain that stops answering
keeps the last catalog, said once."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

import pytest

from deskgrid.chain.arguments import open_hub
from deskgrid.chain.connection import connect
from deskgrid.chain.rpc_server import ChainRpcServer
from deskgrid.grid.app_policy import AppPolicyError
from deskgrid.grid.catalog import LiveCatalog
from deskgrid.grid.chain_catalog import ChainCatalog
from deskgrid.market.manifest import canonical_json
from tests.grid_fixtures import catalog
from tests.published_apps import example_manifest, image_id, publish_example
from tests.unit.chain.conftest import deployed_chain, market  # noqa: F401 - fixtures

ARCHIVE = "ab" * 32


@pytest.fixture
def published(market):  # noqa: F811 - the fixture imported above
    """Three published apps: wordfreq (dev 5, with an archive), montecarlo (dev 6), and one
    whose manifest disagrees with the hub."""
    words, _ = publish_example(
        market.hub, market.sender(5), "wordfreq", image_id(1), archive_sha256=ARCHIVE
    )
    carlo, _ = publish_example(market.hub, market.sender(6), "montecarlo", image_id(2))
    manifest = example_manifest("montecarlo", image_id(3))
    bad = market.hub.publish_app(
        market.sender(6), "montecarlo", manifest.uri, b"\1" * 32, 1, canonical_json(manifest)
    ).app_id
    return {"wordfreq": words, "montecarlo": carlo, "bad": bad}


def follower(market, tmp_path, policy: str) -> tuple[LiveCatalog, ChainCatalog]:  # noqa: F811
    path = tmp_path / "policy.json"
    path.write_text(policy)
    live = LiveCatalog(catalog())
    chain_catalog = ChainCatalog(live, market.hub, path)
    chain_catalog.load()
    return live, chain_catalog


def published_names(live: LiveCatalog) -> set[str]:
    return {name for name in live if live.is_published(name)}


def test_no_published_app_is_served_by_default(market, published, tmp_path) -> None:  # noqa: F811
    live, _ = follower(market, tmp_path, "{}")
    assert set(live) == set(catalog()) and live.docker_names == ()


def test_all_serves_the_consistent_apps_with_their_images(market, published, tmp_path) -> None:  # noqa: F811
    live, _ = follower(market, tmp_path, '{"docker_apps": "all"}')
    words, carlo = f"wordfreq.{published['wordfreq']}", f"montecarlo.{published['montecarlo']}"
    assert published_names(live) == {words, carlo}  # not the inconsistent one
    assert live.docker_names == tuple(sorted((words, carlo)))
    assert set(catalog()) < set(live)
    lease_app = live.docker_app(words)
    assert lease_app is not None and lease_app.image_id == image_id(1)
    assert lease_app.archive_sha256 == ARCHIVE and lease_app.memory_mb == 128
    assert live.archives == {ARCHIVE}
    assert live[words].uri == "docker:" + image_id(1) and live[words].resources.docker
    assert live.docker_app("echo") is None and not live.is_published("echo")


@pytest.mark.parametrize("listed", ["apps", "owners", "images"])
def test_an_allow_list_serves_an_app_by_id_owner_or_image(
    market,  # noqa: F811
    published,
    tmp_path,
    listed,
) -> None:
    value = {
        "apps": published["montecarlo"],
        "owners": f'"{market.account(6).address}"',
        "images": f'"{image_id(2)}"',
    }[listed]
    live, _ = follower(market, tmp_path, f'{{"docker_apps": "allow-list", "{listed}": [{value}]}}')
    assert published_names(live) == {f"montecarlo.{published['montecarlo']}"}


def test_new_apps_retirements_and_policy_changes_follow_without_a_restart(
    market,  # noqa: F811
    published,
    tmp_path,
    caplog,
) -> None:
    live, chain_catalog = follower(market, tmp_path, '{"docker_apps": "all"}')
    generation = live.generation
    assert chain_catalog.refresh() is False and live.generation == generation  # nothing new
    later, _ = publish_example(market.hub, market.sender(5), "wordfreq", image_id(4))
    assert chain_catalog.refresh() is True
    assert f"wordfreq.{later}" in live and live.generation == generation + 1
    market.hub.retire_app(market.sender(5), published["wordfreq"])
    assert chain_catalog.refresh() is True
    assert f"wordfreq.{published['wordfreq']}" not in live and live.archives == frozenset()

    policy = tmp_path / "policy.json"
    policy.write_text(f'{{"docker_apps": "allow-list", "apps": [{later}]}}   ')
    assert chain_catalog.refresh() is True
    assert published_names(live) == {f"wordfreq.{later}"}
    policy.write_text('{"docker_apps": "every"}')  # a mistake: the previous policy stays
    with caplog.at_level(logging.WARNING, "deskgrid.grid.chain_catalog"):
        assert chain_catalog.refresh() is False
        assert chain_catalog.refresh() is False
    problems = [r.getMessage() for r in caplog.records]
    assert len(problems) == 1 and "The previous app policy stays in force" in problems[0]
    assert published_names(live) == {f"wordfreq.{later}"}
    policy.unlink()
    assert chain_catalog.refresh() is False and published_names(live) == {f"wordfreq.{later}"}
    policy.write_text('{"docker_apps": "none"}')
    assert chain_catalog.refresh() is True and published_names(live) == set()


def test_a_chain_that_went_back_is_read_anew(market, deployed_chain, tmp_path) -> None:  # noqa: F811
    publish_example(market.hub, market.sender(5), "wordfreq", image_id(6))
    live, chain_catalog = follower(market, tmp_path, '{"docker_apps": "all"}')
    assert len(published_names(live)) == 1
    market.chain.revert(deployed_chain[3])  # a development chain restarted: no app published
    assert chain_catalog.refresh() is True and published_names(live) == set()
    again, _ = publish_example(market.hub, market.sender(6), "montecarlo", image_id(7))
    assert chain_catalog.refresh() is True and published_names(live) == {f"montecarlo.{again}"}


def test_a_bad_policy_file_at_start_is_a_sentence(market, tmp_path) -> None:  # noqa: F811
    path = tmp_path / "policy.json"
    path.write_text('{"docker_apps": "allow-list", "apps": ["three"]}')
    with pytest.raises(AppPolicyError, match=r"policy.json is not valid: apps.0"):
        ChainCatalog(LiveCatalog(catalog()), market.hub, path)


class Gate:
    """A loopback TCP forwarder to `port` that can be closed (its connections cut, new ones
    refused) and opened again on the same port: a chain node that goes away and comes back."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.links: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.links += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        for sock in self.links:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.links = []

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_a_chain_that_stops_answering_keeps_the_last_catalog(
    market,  # noqa: F811
    published,
    tmp_path,
    caplog,
) -> None:
    server = ChainRpcServer(market.chain)
    gate = Gate(int(server.start().rsplit(":", 1)[1]))
    chain = connect(f"http://127.0.0.1:{gate.port}", timeout=5.0)
    path = tmp_path / "policy.json"
    path.write_text('{"docker_apps": "all"}')
    live = LiveCatalog(catalog())
    chain_catalog = ChainCatalog(live, open_hub(chain, market.hub.address), path)
    try:
        chain_catalog.load()
        served = published_names(live)
        assert len(served) == 2
        gate.cut()
        with caplog.at_level(logging.INFO, "deskgrid.grid.chain_catalog"):
            assert chain_catalog.refresh() is False
            assert chain_catalog.refresh() is False
            assert published_names(live) == served
            down = [r.getMessage() for r in caplog.records]
            assert len(down) == 1 and "cannot read the published apps" in down[0]
            later, _ = publish_example(market.hub, market.sender(5), "wordfreq", image_id(5))
            gate.open = True
            assert chain_catalog.refresh() is True
        assert published_names(live) == served | {f"wordfreq.{later}"}
        assert "the chain answers again" in caplog.records[1].getMessage()
    finally:
        gate.close()
        server.stop()
        chain.close()
