#!/usr/bin/python3
"""A static HTTP server with byte ranges, for web-seed tests (BEP 19).

web_seed.py --root DIR --port PORT

Python's http.server has no Range support, which web seeds need. Serves
files under DIR only; prints {"port": P} when listening; logs requests to
stderr so a test can see the web seed was used.
"""
import argparse
import json
import os
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler(root):
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            rel = urllib.parse.unquote(urllib.parse.urlparse(self.path).path).lstrip("/")
            path = os.path.realpath(os.path.join(root, rel))
            if not path.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(path):
                self.send_error(404)
                return
            size = os.path.getsize(path)
            start, end = 0, size - 1
            m = re.match(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
            status = 200
            if m:
                if m.group(1):
                    start = int(m.group(1))
                    if m.group(2):
                        end = min(int(m.group(2)), size - 1)
                else:
                    start = max(0, size - int(m.group(2)))
                status = 206
            if start > end:
                self.send_error(416)
                return
            self.send_response(status)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
            self.end_headers()
            with open(path, "rb") as f:
                f.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = f.read(min(left, 65536))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)

        def log_message(self, fmt, *args):
            sys.stderr.write("GET %s %s\n" % (self.path, self.headers.get("Range", "")))
            sys.stderr.flush()

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), handler(a.root))
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
