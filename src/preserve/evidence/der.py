"""A minimal DER reader: the one signer of a CMS SignedData, as in a time-stamp token.

Just enough of the SignedData inside an RFC 3161 time-stamp token to check its signature
with the `cryptography` library, which does not read CMS."""

from __future__ import annotations

from dataclasses import dataclass

_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


@dataclass(frozen=True)
class Signer:
    """What the token's one signer signed, and how."""

    content: bytes  # the encapsulated TSTInfo
    digest_oid: str
    signed_attrs: bytes  # DER, re-tagged as a SET: what the signature covers
    message_digest: bytes
    signature: bytes
    signature_oid: str


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length


def _items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements inside [start, end): (tag, header start, content start, content end)."""
    items = []
    while start < end:
        tag, body, stop = _tlv(data, start)
        items.append((tag, start, body, stop))
        start = stop
    return items


def _oid(data: bytes) -> str:
    first = data[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def read_signer(token: bytes) -> Signer:
    """The signer of a CMS SignedData (DER); IndexError or ValueError if it is not one."""
    _, body, end = _tlv(token, 0)  # ContentInfo
    content_type, explicit = _items(token, body, end)[:2]
    _, sd_body, sd_end = _tlv(token, explicit[2])  # [0] EXPLICIT → SignedData SEQUENCE
    fields = _items(token, sd_body, sd_end)
    encap = fields[2]
    encap_items = _items(token, encap[2], encap[3])
    _, octets, octets_end = _tlv(token, encap_items[1][2])  # [0] EXPLICIT OCTET STRING
    content = token[octets:octets_end]
    signer_set = fields[-1]
    if signer_set[0] != 0x31:
        raise ValueError("no SignerInfos")
    signer_infos = _items(token, signer_set[2], signer_set[3])
    if len(signer_infos) != 1:
        raise ValueError(f"{len(signer_infos)} signers")
    parts = _items(token, signer_infos[0][2], signer_infos[0][3])
    digest_alg = _items(token, parts[2][2], parts[2][3])[0]
    digest_oid = _oid(token[digest_alg[2] : digest_alg[3]])
    attrs = parts[3]
    if attrs[0] != 0xA0:
        raise ValueError("no signed attributes")
    signed_attrs = b"\x31" + token[attrs[1] + 1 : attrs[3]]
    message_digest = b""
    for _, _, a_body, a_end in _items(token, attrs[2], attrs[3]):
        oid_item, values = _items(token, a_body, a_end)[:2]
        if _oid(token[oid_item[2] : oid_item[3]]) == _OID_MESSAGE_DIGEST:
            value = _items(token, values[2], values[3])[0]
            message_digest = token[value[2] : value[3]]
    signature_alg = _items(token, parts[4][2], parts[4][3])[0]
    signature_oid = _oid(token[signature_alg[2] : signature_alg[3]])
    signature = parts[5]
    if signature[0] != 0x04:
        raise ValueError("no signature")
    del content_type
    return Signer(
        content,
        digest_oid,
        signed_attrs,
        message_digest,
        token[signature[2] : signature[3]],
        signature_oid,
    )
