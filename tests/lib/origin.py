#!/usr/bin/env python3
"""Local origin server for the end-to-end tests (loopback only).

Routes: /hello, /bytes/N, /echo (POST/PUT, chunked or sized bodies),
/headers (the request line and head as received), /chunked, /close (no length,
closes), /status/N, /encoded/KIND (a JSON text gzip'd, deflated, raw
deflated, gzip'd and chunked, or gzip'd as an image: ENCODED_TEXT).  --tls CERT KEY serves HTTPS.  The bound port is
written to --port-file once listening."""
import argparse
import json
import gzip
import http.server
import socketserver
import ssl
import sys


def pattern(n):
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


ENCODED_TEXT = b"".join(b'{"n":%d,"text":"encoded body"}\n' % i
                       for i in range(2000))


def split(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


def encoded(kind):
    """(body, Content-Encoding, Content-Type) for /encoded/KIND."""
    import zlib
    if kind == "deflate":
        return zlib.compress(ENCODED_TEXT), "deflate", "application/json"
    if kind == "rawdeflate":
        c = zlib.compressobj(wbits=-15)
        return (c.compress(ENCODED_TEXT) + c.flush(), "deflate",
                "application/json")
    ctype = "image/png" if kind == "gzip-png" else "application/json"
    return gzip.compress(ENCODED_TEXT), "gzip", ctype


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body are two writes: with Nagle, the body waited
    # for the client's delayed ACK, 40 ms a keep-alive request.
    disable_nagle_algorithm = True

    def parse_request(self):
        # An origin takes an absolute-form target too (RFC 9112 3.2.2):
        # routed by its path; the line as received is kept for /headers.
        if not super().parse_request():
            return False
        if not self.path.startswith("/") and "://" in self.path:
            rest = self.path.split("://", 1)[1]
            self.path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        return True
    drop_next = False

    def handle_one_request(self):
        if self.drop_next:
            self.rfile.readline()       # the request arrives...
            self.close_connection = True    # ...and is never answered
            return
        super().handle_one_request()

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: " + (fmt % args) + "\n")

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def send(self, code, data, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_chunked(self, parts):
        """Ends the head and sends parts as chunks, then the last one."""
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        p = self.path
        if p == "/hello":
            self.send(200, b"hello from origin\n")
        elif p.startswith("/bytes/"):
            self.send(200, pattern(int(p[7:])), "application/octet-stream")
        elif p.split("?")[0] == "/headers":
            self.send(200, (self.requestline + "\n" +
                            str(self.headers)).encode())
        elif p == "/chunked":
            self.send_response(200)
            self.send_chunked([b"first ", b"second ", b"third\n"])
        elif p.startswith("/chunked-bytes/"):
            # pattern(N) in chunks of a prime size, so that chunk
            # boundaries fall anywhere in a proxy's reads.
            self.send_response(200)
            self.send_chunked(split(pattern(int(p[15:])), 7919))
        elif p.startswith("/close-bytes/"):
            # pattern(N), its end the connection's end.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(pattern(int(p[13:])))
            self.close_connection = True
        elif p == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close\n")
            self.close_connection = True
        elif p == "/drop":
            # Keep-alive by its headers; the next request on this
            # connection is read and the connection closed unanswered:
            # what an origin's idle timeout does to a proxy's pool.
            self.send(200, b"dropped after this\n")
            self.drop_next = True
        elif p.startswith("/encoded/"):
            data, coding, ctype = encoded(p[9:])
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Encoding", coding)
            if p.endswith("-chunked"):
                self.send_chunked(split(data, 1000))
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif p.startswith("/status/"):
            code = int(p[8:])
            self.send_response(code)
            if code not in (204, 304):
                self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send(404, b"no such route\n")

    do_HEAD = do_GET

    def do_POST(self):
        data = self.body()
        if self.path == "/echo":
            self.send(200, data, "application/octet-stream")
        elif self.path.split("?")[0] == "/v1/messages":
            self.anthropic(data)
        elif self.path.split("?")[0] == "/v1/chat/completions":
            self.chat(data)
        elif self.path.split("?")[0] == "/v1/responses":
            self.openai_responses(data)
        elif self.path.startswith("/v1beta/models/"):
            self.gemini(data)
        else:
            self.send(404, b"no such route\n")

    def sse(self, events, named=True):
        body = "".join(("event: %s\n" % e if named else "") +
                       "data: %s\n\n" % json.dumps(d) for e, d in events)
        self.send(200, body.encode(), "text/event-stream; charset=utf-8")

    @staticmethod
    def last_text(items):
        """The text of the last user message of a messages/input list."""
        if isinstance(items, str):
            return items
        for m in reversed(items or []):
            if not isinstance(m, dict) or m.get("role") != "user":
                continue
            c = m.get("content", m.get("parts", ""))
            if isinstance(c, str):
                return c
            return " ".join(p.get("text", "") for p in c
                            if isinstance(p, dict))
        return ""

    def chat(self, data):
        """Chat Completions: the reply quotes the last prompt."""
        req = json.loads(data)
        text = "You said: " + self.last_text(req.get("messages"))
        usage = {"prompt_tokens": 12, "completion_tokens": 6,
                 "total_tokens": 18}
        if not req.get("stream"):
            self.send(200, json.dumps({
                "id": "chatcmpl-origin", "object": "chat.completion",
                "created": 1, "model": req.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": text}}],
                "usage": usage}).encode(), "application/json")
            return
        chunks = [{"id": "chatcmpl-origin", "object": "chat.completion.chunk",
                   "created": 1, "model": req.get("model"),
                   "choices": [{"index": 0, "delta": d,
                                "finish_reason": f}]}
                  for d, f in (({"role": "assistant", "content": text[:5]},
                                None), ({"content": text[5:]}, None),
                               ({}, "stop"))]
        chunks.append({"id": "chatcmpl-origin",
                       "object": "chat.completion.chunk", "created": 1,
                       "model": req.get("model"), "choices": [],
                       "usage": usage})
        body = "".join("data: %s\n\n" % json.dumps(c) for c in chunks)
        self.send(200, (body + "data: [DONE]\n\n").encode(),
                  "text/event-stream; charset=utf-8")

    def openai_responses(self, data):
        """Responses: a message quoting the last prompt."""
        req = json.loads(data)
        text = "You said: " + self.last_text(req.get("input"))
        item = {"id": "msg_origin", "type": "message", "status": "completed",
                "role": "assistant", "content": [
                    {"type": "output_text", "text": text,
                     "annotations": []}]}
        resp = {"id": "resp_origin", "object": "response", "created_at": 1,
                "status": "completed", "model": req.get("model"),
                "output": [item], "usage": {
                    "input_tokens": 13, "output_tokens": 5,
                    "total_tokens": 18,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 0}}}
        if not req.get("stream"):
            self.send(200, json.dumps(resp).encode(), "application/json")
            return
        start = dict(resp, status="in_progress", output=[])
        self.sse([
            ("response.created", {"type": "response.created",
                                  "sequence_number": 0, "response": start}),
            ("response.output_item.added", {
                "type": "response.output_item.added", "sequence_number": 1,
                "output_index": 0, "item": dict(item, status="in_progress",
                                                content=[])}),
            ("response.output_text.delta", {
                "type": "response.output_text.delta", "sequence_number": 2,
                "item_id": "msg_origin", "output_index": 0,
                "content_index": 0, "delta": text}),
            ("response.completed", {"type": "response.completed",
                                    "sequence_number": 3, "response": resp}),
        ])

    def gemini(self, data):
        """Gemini: generateContent, or streamGenerateContent as SSE."""
        req = json.loads(data)
        text = "You said: " + self.last_text(req.get("contents"))
        usage = {"promptTokenCount": 9, "candidatesTokenCount": 4,
                 "totalTokenCount": 13}
        full = {"candidates": [{"content": {"role": "model", "parts": [
            {"text": text}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}
        if "streamGenerateContent" not in self.path:
            self.send(200, json.dumps(full).encode(), "application/json")
            return
        self.sse([(None, {"candidates": [{"content": {"role": "model",
                                                      "parts": [{"text": text[:5]}]},
                                          "index": 0}],
                          "modelVersion": "gemini-2.5-flash"}),
                  (None, dict(full, candidates=[{"content": {
                      "role": "model", "parts": [{"text": text[5:]}]},
                      "finishReason": "STOP", "index": 0}]))],
                 named=False)

    def anthropic(self, data):
        """A Messages API stand-in: the reply quotes the last prompt;
        streamed as the API streams when asked."""
        try:
            req = json.loads(data)
            last = req["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            self.send(400, json.dumps({"type": "error", "error": {
                "type": "invalid_request_error",
                "message": "bad request"}}).encode(), "application/json")
            return
        if isinstance(last, list):
            last = " ".join(b.get("text", "") for b in last
                            if isinstance(b, dict))
        text = "You said: " + last
        usage = {"input_tokens": 11, "output_tokens": 7}
        if not req.get("stream"):
            self.send(200, json.dumps({
                "id": "msg_origin", "type": "message", "role": "assistant",
                "model": req.get("model"), "stop_reason": "end_turn",
                "content": [{"type": "text", "text": text}],
                "usage": usage}).encode(), "application/json")
            return
        events = [
            ("message_start", {"type": "message_start", "message": {
                "id": "msg_origin", "type": "message", "role": "assistant",
                "model": req.get("model"), "content": [],
                "stop_reason": None, "usage": {"input_tokens": 11,
                                               "output_tokens": 1}}}),
            ("content_block_start", {"type": "content_block_start",
                                     "index": 0, "content_block": {
                                         "type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta",
                                     "index": 0, "delta": {
                                         "type": "text_delta",
                                         "text": text[:5]}}),
            ("content_block_delta", {"type": "content_block_delta",
                                     "index": 0, "delta": {
                                         "type": "text_delta",
                                         "text": text[5:]}}),
            ("content_block_stop", {"type": "content_block_stop",
                                    "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {
                "stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 7}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        body = "".join("event: %s\ndata: %s\n\n" % (e, json.dumps(d))
                       for e, d in events).encode()
        self.send(200, body, "text/event-stream; charset=utf-8")

    do_PUT = do_POST


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    listen(Server(("127.0.0.1", 0), Handler), a.tls, a.port_file)


def listen(srv, tls, port_file):
    """TLS when tls is (CERT, KEY); the port written to port_file (whole,
    by a rename) once listening; then serve."""
    import os
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
