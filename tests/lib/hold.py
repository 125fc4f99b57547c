#!/usr/bin/env python3
"""hold.py MODE USER HTTP SOCKS PORT GO: a tunnel to 127.0.0.1:PORT
through greyproxy (MODE socks: SOCKS5 at SOCKS; connect: CONNECT at HTTP),
as USER, held open until the file GO exists; then one request through
it and the answer read to the end.  Prints "open", then "done N"."""
import os, socket, struct, sys, time
mode, user, http, socks, port, go = sys.argv[1:]
if mode == "socks":
    h, p = socks.rsplit(":", 1)
    s = socket.create_connection((h, int(p)))
    s.sendall(b"\x05\x01\x02"); assert s.recv(2) == b"\x05\x02"
    u = user.encode()
    s.sendall(b"\x01" + bytes([len(u)]) + u + b"\x01x"); assert s.recv(2) == b"\x01\x00"
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", int(port)))
    assert s.recv(10)[1] == 0
else:
    h, p = http.rsplit(":", 1)
    s = socket.create_connection((h, int(p)))
    import base64
    auth = base64.b64encode((user + ":x").encode()).decode()
    s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n"
               "Proxy-Authorization: Basic %s\r\n\r\n" % (port, port, auth)).encode())
    assert b" 200 " in s.recv(4096)
print("open", flush=True)
while not os.path.exists(go):
    time.sleep(0.05)
s.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
print("done", len(got), flush=True)
