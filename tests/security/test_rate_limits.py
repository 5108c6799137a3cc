"""Rate limits that hold: the client address is the socket's unless a trusted proxy names
it, so rotating X-Forwarded-For buys nothing; sign-in calls are limited per address and per
worker; a flood of new keys cannot reset an active client's bucket."""

from __future__ import annotations

import asyncio
import json

import pytest

from deskgrid.grid.clientaddr import TrustedProxies, address_key
from deskgrid.grid.config import GridConfig
from deskgrid.grid.errors import RateLimited
from deskgrid.grid.ratelimit import RateLimiter
from deskgrid.grid.server import GridServer
from tests.grid_fixtures import catalog

from .netharness import grid_process, http_request, port_of, post

CHALLENGE = "/api/v1/workers/challenge"
LOGIN_FLAGS = ("--rate-limit", "50", "--login-rate-limit", "0.5")  # login burst: 30


def worker_address(n: int) -> str:
    return "0x" + f"{n:040x}"


def challenge(port: int, n: int, forwarded: str | None = None, source: str = "127.0.0.1") -> int:
    extra = f"X-Forwarded-For: {forwarded}\r\n" if forwarded else ""
    body = json.dumps({"address": worker_address(n)}).encode()
    status, _ = http_request(port, post(CHALLENGE, body, extra=extra), source=source)
    return status


@pytest.mark.integration
def test_rotating_x_forwarded_for_does_not_bypass_the_sign_in_limit(tmp_path) -> None:
    with grid_process(tmp_path, *LOGIN_FLAGS) as (_proc, url):
        port = port_of(url)
        statuses = [challenge(port, n, forwarded=f"198.51.100.{n}") for n in range(60)]
        assert statuses.count(429) >= 25, statuses
        assert set(statuses) <= {200, 429}
        # one worker's sign-ins from many addresses are limited too
        statuses = [challenge(port, 999, source=f"127.0.0.{2 + n}") for n in range(40)]
        assert statuses.count(429) >= 5, statuses


@pytest.mark.integration
def test_a_trusted_proxy_names_the_client_by_its_right_most_untrusted_hop(tmp_path) -> None:
    flags = (*LOGIN_FLAGS, "--trusted-proxy", "127.0.0.0/8")
    with grid_process(tmp_path, *flags) as (_proc, url):
        port = port_of(url)
        # the client writes whatever it likes on the left; the proxy appends what it saw
        spoofed = [
            challenge(port, n, forwarded=f"10.9.{n}.1, 203.0.113.7, 127.0.0.5") for n in range(40)
        ]
        assert spoofed.count(429) >= 5, spoofed
        # other clients behind the same proxy keep their own limits
        others = [challenge(port, 100 + n, forwarded=f"198.51.100.{n}") for n in range(20)]
        assert others == [200] * 20, others


async def test_a_flood_of_new_keys_does_not_reset_a_limited_client(tmp_path) -> None:
    config = GridConfig(
        data_dir=tmp_path,
        trusted_proxies=("127.0.0.1",),
        login_rate_limit_per_s=0.01,
        login_rate_limit_burst=3,
        rate_limit_keys=200,
    )
    async with GridServer(config, catalog()) as server:  # in this loop: calls go in threads
        port = port_of(server.url)

        async def call(n: int, forwarded: str) -> int:
            return await asyncio.to_thread(challenge, port, n, forwarded)

        statuses = [await call(1, "203.0.113.50") for _ in range(5)]
        assert statuses[-1] == 429, statuses
        # a thousand other addresses, one request each (five times the buckets kept), while
        # the limited client keeps trying
        victim = []
        for n in range(1000):
            await call(10 + n, f"198.51.{n // 250}.{n % 250}")
            if n % 50 == 49:
                victim.append(await call(1, "203.0.113.50"))
        assert victim == [429] * 20, victim
        assert len(server.service.login_limiter) <= 200


def test_least_recently_used_buckets_go_first_and_memory_stays_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(1.0, 5.0, lambda: now[0], max_keys=1000)
    for _ in range(5):
        limiter.check("active")
    with pytest.raises(RateLimited):
        limiter.check("active")
    for n in range(200_000):
        limiter.check(f"flood-{n}")
        if n % 500 == 0:  # the active client keeps calling (and being refused)
            now[0] += 0.0001
            with pytest.raises(RateLimited):
                limiter.check("active")
    assert len(limiter) <= 1000
    now[0] += 10.0  # idle long enough to be full again: such buckets are dropped first
    limiter.check("fresh")
    assert len(limiter) == 1


def test_addresses_group_ipv6_by_64_and_unwrap_mapped_ipv4() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client("192.0.2.9", ["1.2.3.4"]) == "192.0.2.9"  # not a proxy: ignored
    assert proxies.client("10.0.0.2", ["1.2.3.4, 5.6.7.8, 10.0.0.3"]) == "5.6.7.8"
    assert proxies.client("10.0.0.2", ["junk, 5.6.7.8"]) == "5.6.7.8"
    assert proxies.client("10.0.0.2", ["5.6.7.8, junk"]) == "10.0.0.2"
