#!/usr/bin/env python3
"""SOCKS5 UDP ASSOCIATE client for the tests: associates (user/pass
USER), sends one DNS query for NAME to TARGET_HOST:TARGET_PORT through
the relay, prints the addresses of the answer, 'none' on timeout, or
'reply <code>' if the association is refused.  --frag sends a fragment
(which must be dropped); --keep N keeps the association for N queries."""
import argparse
import socket
import struct

ap = argparse.ArgumentParser()
ap.add_argument("proxy_host")
ap.add_argument("proxy_port", type=int)
ap.add_argument("target_host")
ap.add_argument("target_port", type=int)
ap.add_argument("name")
ap.add_argument("--user", default="proxy")
ap.add_argument("--frag", action="store_true")
ap.add_argument("--timeout", type=float, default=2.0)
ap.add_argument("--tries", type=int, default=1)
a = ap.parse_args()

c = socket.create_connection((a.proxy_host, a.proxy_port), timeout=5)
c.sendall(b"\x05\x01\x02")
assert c.recv(2) == b"\x05\x02"
u = a.user.encode()
c.sendall(b"\x01" + bytes([len(u)]) + u + b"\x01p")
assert c.recv(2) == b"\x01\x00"
c.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
rep = c.recv(64)
if rep[1] != 0:
    print("reply", rep[1])
    raise SystemExit(0)
if rep[3] == 1:
    relay = (socket.inet_ntoa(rep[4:8]), struct.unpack("!H", rep[8:10])[0])
else:
    relay = (socket.inet_ntop(socket.AF_INET6, rep[4:20]), struct.unpack("!H", rep[20:22])[0])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(a.timeout)
qname = b"".join(bytes([len(l)]) + l.encode() for l in a.name.split(".")) + b"\0"
query = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + qname + b"\0\1\0\1"
head = b"\x00\x00" + (b"\x01" if a.frag else b"\x00") + b"\x01" + \
    socket.inet_aton(a.target_host) + struct.pack("!H", a.target_port)
out = "none"
for _ in range(a.tries):
    s.sendto(head + query, relay)
    try:
        data, _ = s.recvfrom(4096)
    except socket.timeout:
        continue
    # Strip the SOCKS5 UDP header (IPv4 form) and read the A records.
    if data[:4] != b"\x00\x00\x00\x01":
        out = "bad-header"
        break
    src = socket.inet_ntoa(data[4:8]) + ":%d" % struct.unpack("!H", data[8:10])
    dns = data[10:]
    an = struct.unpack("!H", dns[6:8])[0]
    ips = [socket.inet_ntoa(dns[i - 4:i]) for i in range(len(dns), 0, -16)][:an]
    out = "from %s %s" % (src, " ".join(sorted(ips)))
    break
print(out)
c.close()
