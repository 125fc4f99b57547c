#!/usr/bin/env python3
"""A fake upstream DNS server for the tests (loopback only).

--a NAME=IP[,IP...][/TTL]  A records      --aaaa NAME=IP6[/TTL]
--nx NAME                  NXDOMAIN with an SOA (negative TTL 30)
--big NAME                 40 A records: truncated (TC) over UDP, whole over TCP
--silent NAME              never answers
--spoof NAME               first a wrong-ID answer (6.6.6.6), then the right one
Other names: NXDOMAIN without SOA.  The port goes to --port-file once
listening on UDP and TCP; every query is counted in --count-file as
{"NAME TYPE PROTO": n}."""
import argparse
import json
import os
import socket
import struct
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--count-file", required=True)
ap.add_argument("--a", action="append", default=[])
ap.add_argument("--aaaa", action="append", default=[])
ap.add_argument("--nx", action="append", default=[])
ap.add_argument("--big", action="append", default=[])
ap.add_argument("--silent", action="append", default=[])
ap.add_argument("--spoof", action="append", default=[])
ap.add_argument("--hostile", action="append", default=[],
                help="NAME=KIND: loop, forward, overrun, longname, cname-loop")
a = ap.parse_args()

A, AAAA = {}, {}
for spec, table in ((a.a, A), (a.aaaa, AAAA)):
    for item in spec:
        name, rest = item.split("=", 1)
        ttl = 300
        if "/" in rest:
            rest, ttl = rest.rsplit("/", 1)
        table[name.lower()] = (rest.split(","), int(ttl))
HOSTILE = dict(item.split("=", 1) for item in a.hostile)
counts = {}
lock = threading.Lock()


def hostile(kind, qid, question):
    """Answers no resolver should take: each with one A record for
    10.66.66.66 behind the defect."""
    a_rr = struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton("10.66.66.66")
    hdr = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + question
    off = len(hdr)
    if kind == "loop":          # the owner name points at itself
        return hdr + struct.pack("!H", 0xc000 | off) + a_rr
    if kind == "forward":       # a pointer past itself
        return hdr + struct.pack("!H", 0xc000 | (off + 16)) + a_rr + b"\x00"
    if kind == "overrun":       # RDLENGTH past the end
        return hdr + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 200) + b"\x0a\x42\x42\x42"
    if kind == "longname":      # an owner name of 5 x 63-byte labels
        return hdr + (b"\x3f" + b"x" * 63) * 5 + b"\x00" + a_rr
    if kind == "cname-loop":    # a CNAME whose target points at itself
        return hdr + b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, 2) + struct.pack("!H", 0xc000 | (off + 12))
    raise ValueError(kind)


def count(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        tmp = a.count_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(counts, f)
        os.rename(tmp, a.count_file)


def qname(pkt):
    labels, i = [], 12
    while pkt[i]:
        n = pkt[i]
        labels.append(pkt[i + 1:i + 1 + n].decode())
        i += 1 + n
    qtype, = struct.unpack("!H", pkt[i + 1:i + 3])
    return ".".join(labels).lower(), qtype, i + 5


def answer(pkt, proto):
    name, qtype, qend = qname(pkt)
    tname = {1: "A", 28: "AAAA"}.get(qtype, str(qtype))
    count("%s %s %s" % (name, tname, proto))
    if any(name == s or name.endswith("." + s) for s in a.silent):
        return None
    qid = pkt[:2]
    question = pkt[12:qend]
    if name in HOSTILE:
        return hostile(HOSTILE[name], qid, question)
    rrs, rcode, auth, tc = [], 0, [], False
    if name in a.big:
        if proto == "udp":
            tc = True
        else:
            rrs = [(1, socket.inet_aton("10.0.%d.%d" % (i // 250, i % 250 + 1)), 300)
                   for i in range(40)]
    elif qtype == 1 and name in A:
        ips, ttl = A[name]
        rrs = [(1, socket.inet_aton(ip), ttl) for ip in ips]
    elif qtype == 28 and name in AAAA:
        ips, ttl = AAAA[name]
        rrs = [(28, socket.inet_pton(socket.AF_INET6, ip), ttl) for ip in ips]
    elif qtype == 1 and name in a.spoof:
        rrs = [(1, socket.inet_aton("1.2.3.4"), 300)]
    elif name in a.nx:
        rcode = 3
        soa = (b"\x02ns\x00\x05admin\x00" + struct.pack("!IIIII", 1, 60, 60, 60, 30))
        auth = [soa]
    elif name in A or name in AAAA:
        pass                                    # NODATA for the other type
    else:
        rcode = 3
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    out = qid + struct.pack("!HHHHH", flags, 1, len(rrs), len(auth), 0) + question
    for typ, data, ttl in rrs:
        out += b"\xc0\x0c" + struct.pack("!HHIH", typ, 1, ttl, len(data)) + data
    for soa in auth:
        out += b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 300, len(soa)) + soa
    return out


def udp_loop(sock):
    while True:
        pkt, addr = sock.recvfrom(65535)
        try:
            name, qtype, _ = qname(pkt)
            out = answer(pkt, "udp")
        except Exception:
            continue
        if out is None:
            continue
        if name in a.spoof and qtype == 1:
            bad = bytes([pkt[0] ^ 0xff, pkt[1]]) + out[2:-4] + socket.inet_aton("6.6.6.6")
            sock.sendto(bad, addr)
        sock.sendto(out, addr)


def tcp_client(conn):
    with conn:
        while True:
            hdr = conn.recv(2)
            if len(hdr) < 2:
                return
            n, = struct.unpack("!H", hdr)
            pkt = b""
            while len(pkt) < n:
                chunk = conn.recv(n - len(pkt))
                if not chunk:
                    return
                pkt += chunk
            out = answer(pkt, "tcp")
            if out is not None:
                conn.sendall(struct.pack("!H", len(out)) + out)


# The kernel's free UDP port may be busy for TCP (other tests' client
# connections use ephemeral ports too): try until both can have it.
for attempt in range(100):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        tcp.bind(("127.0.0.1", port))
        break
    except OSError:
        udp.close()
        tcp.close()
tcp.listen(16)
threading.Thread(target=udp_loop, args=(udp,), daemon=True).start()
count("ready - -")
with open(a.port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(a.port_file + ".tmp", a.port_file)
while True:
    c, _ = tcp.accept()
    threading.Thread(target=tcp_client, args=(c,), daemon=True).start()
