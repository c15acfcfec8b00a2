#!/usr/bin/env python3
"""Writes the seed corpora of the membership fuzz targets (fuzz/corpus/membership_*/).

Payloads follow docs/PROTOCOL.md, "Membership"; signatures are filler bytes (the decoders do not
verify them, the core counts them as bad). Run from the repository root; rewrites the seeds.
"""
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
TYPES = {"ping": 0x30, "ack": 0x31, "ping_req": 0x32, "nack": 0x33, "gossip": 0x34, "push_pull": 0x35}


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def endpoint(a, b, c, d, port):
    return bytes([4, a, b, c, d]) + struct.pack("<H", port)


def node(n):
    return bytes([n]) * 32


def alive(n, inc, kind=1):
    return bytes([kind]) + node(n) + varint(inc) + endpoint(10, 0, 0, n, 7000) + bytes([0x5A]) * 64


def suspect(n, inc, accuser, kind=2):
    return bytes([kind]) + node(n) + varint(inc) + node(accuser)


def updates(*claims):
    return bytes([len(claims)]) + b"".join(claims)


def header(type_code, payload):
    return bytes([0xA1, 0x4E, 1, type_code, 0, 0]) + struct.pack("<H", len(payload)) + payload


PAYLOADS = {
    "ping": {
        "bare": struct.pack("<I", 7) + node(1) + updates(),
        "claims": struct.pack("<I", 7) + node(1) + updates(alive(2, 3), suspect(3, 300, 2)),
        "bad_kind": struct.pack("<I", 7) + node(1) + updates(suspect(3, 1, 2, kind=9)),
        "trailing": struct.pack("<I", 7) + node(1) + updates() + b"\x00",
    },
    "ack": {
        "bare": struct.pack("<I", 9) + updates(),
        "claims": struct.pack("<I", 9) + updates(alive(4, 1), suspect(2, 1, 4, kind=3)),
        "left": struct.pack("<I", 9) + updates(alive(4, 2, kind=4)),
    },
    "ping_req": {
        "bare": struct.pack("<I", 5) + node(3) + endpoint(10, 0, 0, 3, 7000) + updates(),
        "ipv6": struct.pack("<I", 5) + node(3) + bytes([6]) + bytes(15) + b"\x01" + struct.pack("<H", 9) + updates(),
        "port0": struct.pack("<I", 5) + node(3) + endpoint(10, 0, 0, 3, 0) + updates(),
    },
    "nack": {
        "bare": struct.pack("<I", 5) + updates(),
        "short": struct.pack("<I", 5),
    },
    "gossip": {
        "one": updates(alive(2, 1)),
        "mixed": updates(alive(2, 1), suspect(3, 2, 2), suspect(4, 0, 3, kind=3), alive(5, 7, kind=4)),
        "noncanonical_varint": bytes([1, 2]) + node(3) + b"\x80\x00" + node(2),
        "too_many": bytes([17]),
    },
    "push_pull": {
        "join": bytes([1]) + varint(300) + bytes(300) + updates(alive(9, 0)),
        "reply": bytes([0, 0]) + updates(alive(2, 1), alive(3, 1)),
        "bad_pad": bytes([1, 2, 0, 1]) + updates(),
        "bad_flags": bytes([2, 0]) + updates(),
    },
}


def main():
    for name, seeds in PAYLOADS.items():
        folder = ROOT / f"membership_{name}"
        folder.mkdir(parents=True, exist_ok=True)
        for seed, payload in seeds.items():
            (folder / seed).write_bytes(payload)
    # The core target: chunks of (u16 LE size, u8 source, datagram).
    core = ROOT / "membership_core"
    core.mkdir(parents=True, exist_ok=True)

    def chunk(source, datagram):
        return struct.pack("<H", len(datagram)) + bytes([source]) + datagram

    ping_self = header(0x30, PAYLOADS["ping"]["bare"])
    (core / "ping_and_gossip").write_bytes(
        chunk(0, ping_self) + chunk(3, header(0x34, PAYLOADS["gossip"]["mixed"])))
    (core / "join_stranger").write_bytes(chunk(3, header(0x35, PAYLOADS["push_pull"]["join"])))
    (core / "ping_req").write_bytes(chunk(1, header(0x32, PAYLOADS["ping_req"]["bare"])) +
                                     chunk(2, header(0x31, PAYLOADS["ack"]["bare"])))
    (core / "garbage").write_bytes(chunk(3, b"\xa1\x4e\x01\x33\x00\x00\x02\x00\xff"))
    # The member snapshot file (membership/state.hpp): "AMM" v1 | written_at u64 | count | claims.
    members = ROOT / "membership_members"
    members.mkdir(parents=True, exist_ok=True)

    def snapshot(written_at, *claims):
        return b"AMM\x01" + struct.pack("<Q", written_at) + varint(len(claims)) + b"".join(claims)

    (members / "empty").write_bytes(snapshot(1_700_000_000_000))
    (members / "three").write_bytes(snapshot(1_700_000_000_000, alive(1, 5), alive(2, 1), alive(3, 300)))
    (members / "unsorted").write_bytes(snapshot(7, alive(2, 1), alive(1, 1)))
    (members / "suspect").write_bytes(snapshot(7, suspect(1, 1, 2)))


if __name__ == "__main__":
    main()
