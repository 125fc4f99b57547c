#!/usr/bin/env python3
"""A byte-logging, scriptable origin for the framing tests (loopback
only).  Every byte each connection sends is appended to --log (one
"=== conn N" line before each connection's bytes).  After the first
complete request head on a connection, the bytes of --reply-file (read
at that moment, so a test can change it between requests) are sent
as they are, then the connection stays open until the peer closes it
or --linger seconds pass.  The bound port goes to --port-file."""
import argparse
import os
import socket
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--reply-file", required=True)
ap.add_argument("--linger", type=float, default=3.0)
a = ap.parse_args()
lock = threading.Lock()
count = [0]


def serve(conn):
    with lock:
        count[0] += 1
        n = count[0]
        with open(a.log, "ab") as f:
            f.write(b"=== conn %d\n" % n)
    conn.settimeout(a.linger)
    got = b""
    replied = False
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            with lock, open(a.log, "ab") as f:
                f.write(data)
            got += data
            if not replied and (b"\r\n\r\n" in got or b"\n\n" in got):
                replied = True
                with open(a.reply_file, "rb") as r:
                    conn.sendall(r.read())
    except (socket.timeout, OSError):
        pass
    conn.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(a.port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(a.port_file + ".tmp", a.port_file)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
