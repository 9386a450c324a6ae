#!/usr/bin/env python3
"""Hostile HTTP/2 clients for the h2 server tests: real frames on a plaintext connection
(prior knowledge). Usage: h2_hostile.py PORT CASE

CASE is one of rapid-reset, continuation, ping, settings, hpack-bomb, big-header, ok.
Prints one line: "goaway <error code>" when the server sent GOAWAY, "status <code>" for the
answer of the case's stream, "rst <code>" for RST_STREAM, or "closed" / "timeout". Bounded:
every case sends a fixed number of frames and waits at most 10 s.
"""
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(
        ">I", sid & 0x7FFFFFFF) + payload


def request_block(enc, path="/v1/sys/health", extra=()):
    return enc.encode([(":method", "GET"), (":scheme", "http"), (":authority", "h"),
                       (":path", path)] + list(extra))


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def frames(self, deadline):
        while time.time() < deadline:
            while len(self.buf) >= 9:
                n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) < 9 + n:
                    break
                ftype, flags = self.buf[3], self.buf[4]
                sid = struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
                payload = self.buf[9:9 + n]
                self.buf = self.buf[9 + n:]
                yield ftype, flags, sid, payload
            try:
                self.sock.settimeout(max(0.05, deadline - time.time()))
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:
                yield None, 0, 0, b""
                return
            if not data:
                yield None, 0, 0, b""
                return
            self.buf += data


def outcome(sock, want_sid=None):
    dec = hpack.Decoder()
    dec.max_allowed_table_size = 65536
    for ftype, flags, sid, payload in Reader(sock).frames(time.time() + 10):
        if ftype is None:
            return "closed"
        if ftype == GOAWAY:
            return "goaway %d" % struct.unpack(">I", payload[4:8])[0]
        if ftype == SETTINGS and not flags & ACK:
            sock.sendall(frame(SETTINGS, ACK, 0))
        if want_sid is not None and sid == want_sid:
            if ftype == HEADERS:
                for name, value in dec.decode(payload):
                    if name in (":status", b":status"):
                        return "status %s" % (value.decode() if isinstance(value, bytes)
                                               else value)
            if ftype == RST_STREAM:
                return "rst %d" % struct.unpack(">I", payload)[0]
        elif ftype == HEADERS:
            dec.decode(payload)  # keep the decoder's table in step
    return "timeout"


def main():
    port, case = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
    enc = hpack.Encoder()
    want = None
    out = bytearray()
    if case == "rapid-reset":  # CVE-2023-44487: open and cancel streams at once
        for i in range(3000):
            sid = 1 + 2 * i
            out += frame(HEADERS, END_HEADERS | END_STREAM, sid, request_block(enc))
            out += frame(RST_STREAM, 0, sid, struct.pack(">I", 8))  # CANCEL
    elif case == "continuation":  # CVE-2024-27316: a header block that never ends
        out += frame(HEADERS, END_STREAM, 1, request_block(enc))
        for i in range(5000):
            out += frame(CONTINUATION, 0, 1, enc.encode([("x-pad-%d" % (i % 50), "y" * 100)]))
    elif case == "ping":
        for i in range(20000):
            out += frame(PING, 0, 0, struct.pack(">Q", i))
    elif case == "settings":
        for _ in range(20000):
            out += frame(SETTINGS, 0, 0, struct.pack(">HI", 0x4, 65535))
    elif case == "hpack-bomb":  # one 4 KB value in the table, referenced 200 times (800 KB)
        sock.close()
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=False, normalize_outbound_headers=False))
        conn.initiate_connection()  # python3-h2's encoder indexes the value once, then refers
        conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "h"),
                              (":path", "/v1/sys/health")] + [("x-bomb", "b" * 4000)] * 200,
                          end_stream=True)
        out += conn.data_to_send()
    elif case == "big-header":  # just over the 16 KiB header list limit: 431, no GOAWAY
        out += frame(HEADERS, END_HEADERS | END_STREAM, 1,
                     request_block(enc, extra=[("x-big", "z" * 16500)]))
        want = 1
    elif case == "ok":
        out += frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block(enc))
        want = 1
    else:
        raise SystemExit("unknown case " + case)
    try:
        sock.sendall(bytes(out))
    except OSError:
        pass  # the server may close before it has read everything
    print(outcome(sock, want))


main()
