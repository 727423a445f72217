"""The private-address guard: which addresses may be fetched, checked on every connection."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection

from preserve.net.deadline import Watchdog
from preserve.net.failures import Failure

ALLOW_PRIVATE_HINT = "use --allow-private or PRESERVE_ALLOW_PRIVATE=1 to allow it"

# Not covered by ipaddress's is_global in every Python version: IETF protocol assignments
# and the local-use NAT64 prefix.
_EXTRA_BLOCKED = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("64:ff9b:1::/48"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public_address(address: str) -> bool:
    """True if `address` is a global unicast IP address that any site may be fetched from.

    Loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast,
    reserved and unspecified addresses are not, nor IPv6 spellings that embed one of them
    (::ffff:127.0.0.1, 6to4, NAT64).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if not _is_public(ip):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or ip in _IPV4_COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(embedded):
            return False
    return True


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_private
        and not ip.is_unspecified
        and not any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version)
    )


@dataclass
class Hop:
    """What the connection code needs to know about the hop in progress on its thread."""

    guarded: bool
    watchdog: Watchdog
    peer_ip: str | None = None


class Blocked(Exception):
    """Raised inside urllib3 when a connection reaches a non-public address. Deliberately
    not an OSError, so that urllib3 lets it through unwrapped."""

    def __init__(self, address: str | None) -> None:
        super().__init__(address)
        self.address = address

    def detail(self, host: str | None) -> str:
        address = self.address or "an unknown address"
        target = f"{host} ({address})" if host and host != address else address
        return f"refused to connect to {target}: not a public address ({ALLOW_PRIVATE_HINT})"


def refuse_literal(host: str) -> None:
    """Refuse a host spelled as a non-public IP before connecting: an unroutable private
    address would otherwise show up as a timeout rather than as refused."""
    address = _literal_address(host)
    if address is not None and not is_public_address(address):
        raise Failure("blocked-private-address", Blocked(address).detail(host))


def _literal_address(host: str) -> str | None:
    """The IP address a numeric host names, in every spelling the resolver accepts:
    127.0.0.1, 2130706433, 0177.0.0.1, 0x7f.1, ::1."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


class Admitting:
    """Checks the address actually connected to, after connecting and before a byte of the
    request (or of a TLS handshake) is sent: a name may resolve anywhere, and 2130706433 is
    127.0.0.1. Mixed into urllib3's connection classes."""

    sock: socket.socket | None

    def __init__(self, hop: Hop, *args: Any, **kwargs: Any) -> None:
        self.hop = hop
        self.peer_ip: str | None = None
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        try:
            self._admit(sock)
        except BaseException:
            sock.close()
            raise
        return sock

    def _admit(self, sock: socket.socket) -> None:
        """Let a request go out on `sock` only if the hop allows the address it reached."""
        try:
            peer: str | None = sock.getpeername()[0]
        except (OSError, IndexError, TypeError):
            peer = None
        if self.hop.guarded and (peer is None or not is_public_address(peer)):
            raise Blocked(peer)
        self.hop.peer_ip = self.peer_ip = peer
        self.hop.watchdog.watch(self, sock)


class AdmittingConnection(Admitting, HTTPConnection):
    pass


class AdmittingTLSConnection(Admitting, HTTPSConnection):
    pass
