#!/usr/bin/env python3
"""Minimal RFC 6455 client for the tests.  Prints 'HANDSHAKE <status>',
then one line per text message received and 'CLOSE <code>' on a close
frame.  Lines read from stdin are sent as masked text frames; a line
'FRAG <text>' sends it in two fragments, 'PING' sends a ping (the pong is
printed as 'PONG'), 'RAW <hex>' sends raw bytes."""
import argparse
import base64
import os
import socket
import struct
import sys
import threading

import wsdeflate

ap = argparse.ArgumentParser()
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("--path", default="/ws")
ap.add_argument("--origin")
ap.add_argument("--host-header")
ap.add_argument("--stall-until",
                help="stop reading after the handshake until this file exists (60 s at most)")
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if a.stall_until:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(30)
s.connect((a.host, a.port))
key = base64.b64encode(os.urandom(16)).decode()
req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
       "Sec-WebSocket-Version: 13\r\n" %
       (a.path, a.host_header or "127.0.0.1:%d" % a.port, key))
if a.origin:
    req += "Origin: %s\r\n" % a.origin
s.sendall((req + "\r\n").encode())
head = wsdeflate.read_head(s)
status = head.split(b" ")[1].decode() if head else "none"
print("HANDSHAKE", status, flush=True)
if status != "101":
    sys.exit(0)


def frame(opcode, payload, fin=True):
    return wsdeflate.frame(opcode, payload, fin=fin, mask=True)


def writer():
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line == "PING":
            s.sendall(frame(9, b"hi"))
        elif line.startswith("FRAG "):
            data = line[5:].encode()
            s.sendall(frame(1, data[:3], fin=False) + frame(0, data[3:]))
        elif line.startswith("RAW "):
            s.sendall(bytes.fromhex(line[4:]))
        elif line == "CLOSE":
            s.sendall(frame(8, struct.pack("!H", 1000)))
        else:
            s.sendall(frame(1, line.encode()))


threading.Thread(target=writer, daemon=True).start()
if a.stall_until:
    import time
    print("STALLING", flush=True)
    for _ in range(600):
        if os.path.exists(a.stall_until):
            break
        time.sleep(0.1)
    print("READING", flush=True)


def recv_exact(n):
    return wsdeflate.read_exact(s, n)


try:
    while True:
        b0, b1 = recv_exact(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack("!H", recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", recv_exact(8))[0]
        payload = recv_exact(n)
        op = b0 & 0x0f
        if op == 1:
            print(payload.decode(), flush=True)
        elif op == 8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 0
            print("CLOSE", code, flush=True)
            break
        elif op == 10:
            print("PONG", flush=True)
except (EOFError, ConnectionResetError, socket.timeout):
    print("EOF", flush=True)
