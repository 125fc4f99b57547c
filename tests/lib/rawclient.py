#!/usr/bin/env python3
"""Sends raw bytes to HOST PORT and prints what comes back until the
peer closes (or --timeout).  Payload: --hex HEX, or stdin.  --out-hex
prints the reply as hex.  --expect-close exits 3 if the peer did not
close within the timeout."""
import argparse
import socket
import sys

ap = argparse.ArgumentParser()
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("--hex")
ap.add_argument("--out-hex", action="store_true")
ap.add_argument("--timeout", type=float, default=5.0)
ap.add_argument("--expect-close", action="store_true")
ap.add_argument("--half-close", action="store_true",
                help="shut down the sending side after the payload")
a = ap.parse_args()
payload = bytes.fromhex(a.hex) if a.hex is not None else sys.stdin.buffer.read()
s = socket.create_connection((a.host, a.port), timeout=a.timeout)
s.sendall(payload)
if a.half_close:
    s.shutdown(socket.SHUT_WR)
out = bytearray()
closed = False
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
        out += chunk
except socket.timeout:
    pass
except ConnectionResetError:
    closed = True
s.close()
sys.stdout.write(out.hex() if a.out_hex else out.decode("latin-1"))
sys.stdout.flush()
sys.exit(3 if a.expect_close and not closed else 0)
