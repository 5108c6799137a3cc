"""Who is calling, by network address: the socket's peer, unless the operator named trusted
proxies (`--trusted-proxy`); only a request from one of those has its X-Forwarded-For read,
taking the right-most hop that is not itself a trusted proxy (hops further left were written
by the client and prove nothing).

Limits keyed on an address use `address_key`: an IPv4 address as is, an IPv6 address by its
/64 network (one subscriber usually holds a whole /64, so counting single IPv6 addresses would
let one machine act as billions of clients)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from deskgrid.errors import DeskGridError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 32  # X-Forwarded-For hops looked at, from the right


def parse_ip(text: str) -> IPAddress | None:
    """An address from a socket or a header; IPv4-mapped IPv6 addresses become IPv4."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        found = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def address_key(host: str) -> str:
    """The key limits use for a client address: IPv4 as is, IPv6 by its /64."""
    found = parse_ip(host)
    if found is None:
        return host[:64]
    if isinstance(found, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(found) >> 64 << 64, 64)))
    return str(found)


class TrustedProxies:
    """The proxies (addresses or networks) whose X-Forwarded-For is believed."""

    def __init__(self, specs: Iterable[str] = ()) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(_network(spec) for spec in specs)

    def specs(self) -> list[str]:
        return [str(net) for net in self.networks]

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, ip: IPAddress | None) -> bool:
        return ip is not None and any(ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """The client's address for a request from socket peer `peer` carrying these
        X-Forwarded-For header values (in order)."""
        peer_ip = parse_ip(peer)
        if not self.trusts(peer_ip):
            return str(peer_ip) if peer_ip is not None else peer
        hops = [hop for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
        found = peer_ip
        for hop in reversed(hops):
            ip = parse_ip(hop)
            if ip is None:
                break  # garbage: nothing further left can be believed
            found = ip
            if not self.trusts(ip):
                break
        return str(found)


def _network(spec: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(spec.strip(), strict=False)
    except ValueError:
        raise DeskGridError(
            f"--trusted-proxy {spec!r} is not an address or network; use e.g. 127.0.0.1, "
            "10.0.0.0/8 or fd00::/8."
        ) from None
