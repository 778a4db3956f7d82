#!/usr/bin/env python3
"""A loopback HTTP receiver for bench/http-sinks.sh: answers each HTTP sink's
request the way its vendor does on success, and counts the events it took.

Usage: http_receiver.py PORT COUNT_FILE
It writes the running event count to COUNT_FILE after each request.
Success shapes: Splunk HEC {"text":"Success","code":0} (docs.splunk.com, HEC
REST API), Elasticsearch _bulk {"errors":false,"items":[...]} (elastic.co
docs-bulk), Azure Logs Ingestion 204 and an Entra ID token (learn.microsoft.com),
plain 200 for http and webhook.
"""
import gzip
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = 0
lock = threading.Lock()
count_file = sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle holds the
    # body back until the client's delayed ACK, 40 ms a request.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        path = self.path.split("?")[0]
        if path.endswith("/token"):
            token = {"token_type": "Bearer", "expires_in": 3599, "access_token": "bench-token"}
            return self.answer(200, json.dumps(token).encode())
        if path.endswith("/_bulk"):
            n = body.count(b"\n") // 2
            items = [{"create": {"status": 201}}] * n
            reply = json.dumps({"took": 1, "errors": False, "items": items}).encode()
        elif path.startswith("/services/collector"):
            n, at, decoder = 0, 0, json.JSONDecoder()
            text = body.decode()
            while at < len(text):
                _, at = decoder.raw_decode(text, at)
                n += 1
                while at < len(text) and text[at].isspace():
                    at += 1
            reply = b'{"text":"Success","code":0}'
        elif "/dataCollectionRules/" in path:
            n = len(json.loads(body))
            reply = None
        elif path == "/webhook":
            n = 1
            reply = b""
        else:
            n = body.count(b"\n")
            reply = b""
        with lock:
            count += n
            # Replaced whole, so the script never reads it half-written.
            with open(count_file + ".tmp", "w") as f:
                f.write(str(count))
            os.replace(count_file + ".tmp", count_file)
        if reply is None:
            self.answer(204)
        else:
            self.answer(200, reply)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
