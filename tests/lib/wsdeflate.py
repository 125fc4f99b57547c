#!/usr/bin/env python3
"""WebSocket with permessage-deflate (RFC 6455, RFC 7692) for the capture
tests, loopback only.

  wsdeflate.py serve --port-file F [--tls CERT KEY]
      An echo origin: right after the 101 (in the same write) it sends
      "welcome"; each text message comes back as "echo: <text>",
      compressed, a long one in two fragments; binary comes back as it
      came, uncompressed.  Context takeover both ways.
  wsdeflate.py client --proxy H:P --target H:P [--tls CAFILE] [--path P]
      [--socks5 USER]
      Through the proxy (CONNECT then TLS when --tls, else an
      absolute-form GET; with --socks5, a SOCKS5 tunnel under that user
      name, then an origin-form GET in the clear), offers permessage-deflate, sends "hello 1", a
      long text in three fragments, 256 binary bytes, and prints each
      message received (binary as its length), then closes."""
import argparse
import base64
import hashlib
import os
import socket
import socketserver
import ssl
import struct
import sys
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
LONG = "x" * 5000 + " end"


def read_exact(f, n):
    data = b""
    while len(data) < n:
        chunk = f.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_head(s):
    """An HTTP head, byte by byte (nothing after it is consumed); b""
    if the peer closed first."""
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            return b""
        head += c
    return head


def read_frame(s):
    b0, b1 = read_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(s, 8))[0]
    mask = read_exact(s, 4) if b1 & 0x80 else None
    data = read_exact(s, n)
    if mask:
        data = bytes(c ^ mask[i & 3] for i, c in enumerate(data))
    return b0 >> 7, (b0 >> 6) & 1, b0 & 0x0F, data


def frame(op, data, fin=True, rsv1=False, mask=False):
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | op
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", b0, n | (0x80 if mask else 0))
    elif n < 65536:
        head = struct.pack("!BBH", b0, 126 | (0x80 if mask else 0), n)
    else:
        head = struct.pack("!BBQ", b0, 127 | (0x80 if mask else 0), n)
    if mask:
        key = os.urandom(4)
        data = bytes(c ^ key[i & 3] for i, c in enumerate(data))
        head += key
    return head + data


class Peer:
    """One side's deflate contexts and message reader."""

    def __init__(self, sock, deflate, mask):
        self.s = sock
        self.mask = mask
        self.comp = zlib.compressobj(wbits=-15) if deflate else None
        self.decomp = zlib.decompressobj(wbits=-15) if deflate else None

    def send(self, op, data, compress=True, parts=1):
        rsv1 = False
        if self.comp is not None and compress:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
            data = data[:-4]
            rsv1 = True
        step = max(1, (len(data) + parts - 1) // parts)
        chunks = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        out = b""
        for i, c in enumerate(chunks):
            out += frame(op if i == 0 else 0, c, fin=i == len(chunks) - 1,
                         rsv1=rsv1 and i == 0, mask=self.mask)
        return out

    def recv(self):
        """(opcode, data) of the next data message; pings answered."""
        msg, op, rsv1 = b"", None, 0
        while True:
            fin, r1, o, data = read_frame(self.s)
            if o == 9:
                self.s.sendall(frame(10, data, mask=self.mask))
                continue
            if o == 8:
                return 8, data
            if o != 0:
                op, rsv1 = o, r1
            msg += data
            if fin:
                break
        if rsv1:
            msg = self.decomp.decompress(msg + b"\x00\x00\xff\xff")
        return op, msg


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        head = read_head(s)
        if not head:
            return
        lines = head.decode().split("\r\n")
        h = {k.strip().lower(): v.strip() for k, v in
             (l.split(":", 1) for l in lines[1:] if ":" in l)}
        deflate = "permessage-deflate" in h.get("sec-websocket-extensions", "")
        resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n" %
                accept_key(h["sec-websocket-key"]))
        if deflate:
            resp += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        p = Peer(s, deflate, mask=False)
        s.sendall((resp + "\r\n").encode() + p.send(1, b"welcome"))
        try:
            while True:
                op, data = p.recv()
                if op == 8:
                    s.sendall(frame(8, data[:2]))
                    return
                if op == 1:
                    s.sendall(p.send(1, b"echo: " + data,
                                     parts=2 if len(data) > 100 else 1))
                else:
                    s.sendall(p.send(2, data, compress=False))
        except EOFError:
            return


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(a):
    import origin
    origin.listen(Server(("127.0.0.1", 0), Handler), a.tls, a.port_file)


def client(a):
    ph, pp = a.proxy.rsplit(":", 1)
    s = socket.create_connection((ph, int(pp)), timeout=20)
    if a.socks5:
        th, tp = a.target.rsplit(":", 1)
        u = a.socks5.encode()
        s.sendall(b"\x05\x01\x02")
        if s.recv(2) != b"\x05\x02":
            print("SOCKS5 method refused")
            return 1
        s.sendall(b"\x01" + bytes([len(u)]) + u + b"\x01x")
        if s.recv(2) != b"\x01\x00":
            print("SOCKS5 user refused")
            return 1
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(th)]) + th.encode() +
                  struct.pack(">H", int(tp)))
        r = read_exact(s, 10)
        if r[1] != 0:
            print("SOCKS5 reply", r[1])
            return 1
        target = a.path
    elif a.tls:
        s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                   (a.target, a.target)).encode())
        head = read_head(s)
        if b" 200" not in head.split(b"\r\n")[0]:
            print("CONNECT", head.split(b"\r\n")[0].decode())
            return 1
        ctx = ssl.create_default_context(cafile=a.tls)
        s = ctx.wrap_socket(s, server_hostname=a.target.rsplit(":", 1)[0])
        target = a.path
    else:
        target = "http://%s%s" % (a.target, a.path)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: "
               "permessage-deflate; client_max_window_bits\r\n\r\n" %
               (target, a.target, key)).encode())
    head = read_head(s)
    status = head.split(b" ")[1].decode() if head else "none"
    print("HANDSHAKE", status, "deflate" if b"permessage-deflate" in head
          else "plain", flush=True)
    if status != "101":
        return 1
    p = Peer(s, b"permessage-deflate" in head, mask=True)
    s.sendall(p.send(1, b"hello 1"))
    s.sendall(p.send(1, LONG.encode(), parts=3))
    s.sendall(p.send(2, bytes(range(256)), compress=False))
    for _ in range(4):
        op, data = p.recv()
        print(data.decode() if op == 1 else "BINARY %d" % len(data),
              flush=True)
    s.sendall(frame(8, struct.pack("!H", 1000), mask=True))
    op, _ = p.recv()
    print("CLOSE" if op == 8 else "NO CLOSE", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve")
    sv.add_argument("--port-file", required=True)
    sv.add_argument("--tls", nargs=2)
    cl = sub.add_parser("client")
    cl.add_argument("--proxy", required=True)
    cl.add_argument("--target", required=True)
    cl.add_argument("--tls")
    cl.add_argument("--path", default="/chat")
    cl.add_argument("--socks5")
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a)
        return 0
    return client(a)


if __name__ == "__main__":
    sys.exit(main())
