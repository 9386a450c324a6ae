#!/usr/bin/env python3
"""HTTP/2 load client for failover tests (Debian's python3-h2, prior knowledge on plaintext).

Usage: h2_load.py PORT TOKEN OUT STOP_FILE [WRITERS] [READERS]

WRITERS connections each write unique keys one after another (PUT /v1/secret/data/h2load/
w<id>-<seq>), READERS connections read a seeded key; every op is one stream, answered or
not within 10 s. A connection that fails or gets GOAWAY is replaced by a new one (as Go's
and curl's clients do). Each op becomes one line in OUT: "w|r status start_s end_s key
value" (status 0: no answer). Runs until STOP_FILE exists.
"""
import os
import socket
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events

PORT, TOKEN, OUT, STOP = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
WRITERS = int(sys.argv[5]) if len(sys.argv) > 5 else 2
READERS = int(sys.argv[6]) if len(sys.argv) > 6 else 2
lock = threading.Lock()
out = open(OUT, "w")


class Conn:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())

    def request(self, method, path, body=b""):
        sid = self.h2.get_next_available_stream_id()
        headers = [(":method", method), (":path", path), (":scheme", "http"),
                   (":authority", "127.0.0.1:%d" % PORT), ("x-vault-token", TOKEN)]
        if body:
            headers.append(("content-length", str(len(body))))
        self.h2.send_headers(sid, headers, end_stream=not body)
        if body:
            self.h2.send_data(sid, body, end_stream=True)
        self.sock.sendall(self.h2.data_to_send())
        status = 0
        deadline = time.time() + 10
        while time.time() < deadline:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            for ev in self.h2.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    status = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived):
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    self.sock.sendall(self.h2.data_to_send())
                    return status
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                    raise ConnectionError("reset")
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    if ev.last_stream_id is None or ev.last_stream_id < sid:
                        raise ConnectionRefusedError("goaway before the stream")
            self.sock.sendall(self.h2.data_to_send())
        raise TimeoutError("no answer")


def record(kind, status, start, end, key="-", value="-"):
    with lock:
        out.write("%s %d %.6f %.6f %s %s\n" % (kind, status, start, end, key, value))
        out.flush()


def worker(kind, wid):
    conn, seq = None, 0
    while not os.path.exists(STOP):
        seq += 1
        key, value = "h2load/w%d-%d" % (wid, seq), "v%d" % seq
        start = time.time()
        status = 0
        retried = False
        while True:
            try:
                if conn is None:
                    conn = Conn()
                if kind == "w":
                    status = conn.request("PUT", "/v1/secret/data/" + key,
                                          b'{"data":{"v":"%s"}}' % value.encode())
                else:
                    status = conn.request("GET", "/v1/secret/data/seed/0")
                break
            except ConnectionRefusedError:  # GOAWAY: never processed, the client resends
                conn = None
                if retried:
                    break
                retried = True
            except (OSError, ConnectionError, TimeoutError, h2.exceptions.ProtocolError):
                conn = None
                break
        record(kind, status, start, time.time(), key if kind == "w" else "-", value)
        if status == 0:
            time.sleep(0.05)  # a client backs off before it reconnects


threads = [threading.Thread(target=worker, args=("w", i)) for i in range(WRITERS)]
threads += [threading.Thread(target=worker, args=("r", i)) for i in range(READERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
