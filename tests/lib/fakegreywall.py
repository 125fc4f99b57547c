#!/usr/bin/env python3
"""greywall's session client, as its Go code sends it (http.Post with
json.Marshal of its struct: the same field order, headers and empty
heartbeat body), for the tests.  Prints 'STATUS <code>' then the body.

  fakegreywall.py API register SESSION CONTAINER [--map PH=VALUE:LABEL]...
      [--global LABEL]... [--rule DEST:PORTS] [--allow-all] [--ttl N]
  fakegreywall.py API heartbeat SESSION
  fakegreywall.py API delete SESSION"""
import argparse
import http.client
import json
import sys


def send(api, method, path, body):
    host, port = api.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    # Go's http.Post: these headers, in this order.
    c.putrequest(method, path, skip_accept_encoding=True)
    c.putheader("User-Agent", "Go-http-client/1.1")
    c.putheader("Content-Length", str(len(body)))
    if method == "POST":
        c.putheader("Content-Type", "application/json")
    c.putheader("Accept-Encoding", "gzip")
    c.endheaders(body)
    r = c.getresponse()
    print("STATUS", r.status)
    print(r.read().decode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("api")
    ap.add_argument("cmd")
    ap.add_argument("session")
    ap.add_argument("container", nargs="?")
    ap.add_argument("--map", action="append", default=[])
    ap.add_argument("--global", dest="globals", action="append", default=[])
    ap.add_argument("--rule", action="append", default=[])
    ap.add_argument("--allow-all", action="store_true")
    ap.add_argument("--ttl", type=int, default=900)
    a = ap.parse_args()
    if a.cmd == "heartbeat":
        send(a.api, "POST", "/api/sessions/%s/heartbeat" % a.session, b"")
        return
    if a.cmd == "delete":
        send(a.api, "DELETE", "/api/sessions/%s" % a.session, b"")
        return
    # sessionRequest: session_id, container_name, mappings?, labels?,
    # metadata?, global_credentials?, ttl_seconds, network_rules?,
    # allow_all? (omitempty; Go sorts map keys).
    req = {"session_id": a.session, "container_name": a.container}
    maps, labels = {}, {}
    for m in a.map:
        ph, rest = m.split("=", 1)
        value, label = rest.rsplit(":", 1)
        maps[ph], labels[ph] = value, label
    if maps:
        req["mappings"] = dict(sorted(maps.items()))
        req["labels"] = dict(sorted(labels.items()))
    req["metadata"] = {"args": "-p hi", "binary_path": "/usr/bin/claude",
                       "cmd": "claude", "pid": "4242", "pwd": "/home/u/p"}
    if a.globals:
        req["global_credentials"] = a.globals
    req["ttl_seconds"] = a.ttl
    if a.rule:
        req["network_rules"] = [{"destination_pattern": r.split(":")[0],
                                 "port_pattern": r.split(":")[1],
                                 "action": "allow"} for r in a.rule]
    if a.allow_all:
        req["allow_all"] = True
    send(a.api, "POST", "/api/sessions",
         json.dumps(req, separators=(",", ":")).encode())


if __name__ == "__main__":
    sys.exit(main())
