#!/usr/bin/env python3
"""Slowloris: connects to HOST PORT, sends --prefix (hex) at once, then
one byte of --trickle every --interval seconds, and reports how long
the server kept the connection: prints 'CLOSED <seconds>' when the
server closed it, 'OPEN' if it was still open after --limit seconds.
Loopback only; bounded by --limit."""
import argparse
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("--prefix", default="")
ap.add_argument("--trickle", default="X-Slow: a")
ap.add_argument("--interval", type=float, default=0.2)
ap.add_argument("--limit", type=float, default=20)
a = ap.parse_args()
s = socket.create_connection((a.host, a.port), timeout=a.limit)
t0 = time.monotonic()
s.sendall(bytes.fromhex(a.prefix))
s.setblocking(False)
i = 0
body = a.trickle.encode()
state = "OPEN"
while time.monotonic() - t0 < a.limit:
    try:
        data = s.recv(4096)
        if data == b"":
            state = "CLOSED"
            break
        continue            # a reply (408); the close follows
    except BlockingIOError:
        pass
    except OSError:
        state = "CLOSED"
        break
    try:
        s.send(body[i % len(body):i % len(body) + 1])
    except OSError:
        state = "CLOSED"
        break
    i += 1
    time.sleep(a.interval)
print(state if state == "OPEN" else "CLOSED %.1f" % (time.monotonic() - t0))
