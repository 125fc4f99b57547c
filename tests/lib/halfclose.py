#!/usr/bin/env python3
"""Half-close through a proxy tunnel (loopback only).

server --port-file F: each connection is read until the peer's EOF,
then answered "<bytes> <sha256>\n" and closed — so an answer proves the
EOF crossed the tunnel while the way back stayed open.

client --via http|socks5 PROXY_HOST:PORT --target HOST:PORT --bytes N
[--user U]: opens the tunnel, sends N bytes, shuts its sending side,
prints what comes back until the tunnel closes ("<bytes> <sha256>").

idle --via ... --target ...: opens the tunnel and prints the seconds
until the proxy closes it (idle timeout)."""
import argparse
import hashlib
import socket
import socketserver
import struct
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["server", "client", "idle"])
ap.add_argument("--port-file")
ap.add_argument("--via", default="http")
ap.add_argument("--proxy")
ap.add_argument("--target")
ap.add_argument("--bytes", type=int, default=0)
ap.add_argument("--timeout", type=float, default=20)
a = ap.parse_args()


class H(socketserver.BaseRequestHandler):
    def handle(self):
        h, n = hashlib.sha256(), 0
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
        self.request.sendall(b"%d %s\n" % (n, h.hexdigest().encode()))


def tunnel():
    ph, pp = a.proxy.rsplit(":", 1)
    th, tp = a.target.rsplit(":", 1)
    s = socket.create_connection((ph, int(pp)), timeout=a.timeout)
    if a.via == "http":
        s.sendall(b"CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n" %
                  (th.encode(), tp.encode(), th.encode(), tp.encode()))
        head = b""
        while b"\r\n\r\n" not in head:
            c = s.recv(1)
            if not c:
                sys.exit("proxy closed during CONNECT")
            head += c
        if b" 200" not in head.split(b"\r\n")[0]:
            sys.exit("CONNECT refused: %r" % head)
    else:
        s.sendall(b"\x05\x01\x00")
        if s.recv(2) != b"\x05\x00":
            sys.exit("SOCKS5 greeting refused")
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(th)]) + th.encode() +
                  struct.pack(">H", int(tp)))
        r = s.recv(10)
        if len(r) < 2 or r[1] != 0:
            sys.exit("SOCKS5 CONNECT refused: %r" % r)
    return s


if a.mode == "server":
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(a.port_file, "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()
elif a.mode == "client":
    s = tunnel()
    chunk, left = bytes(range(256)) * 256, a.bytes
    while left > 0:
        s.sendall(chunk[:left])
        left -= min(left, len(chunk))
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    sys.stdout.write(out.decode(errors="replace"))
else:
    s = tunnel()
    t0 = time.monotonic()
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        sys.exit("still open after %s s" % a.timeout)
    print("%.1f" % (time.monotonic() - t0))
