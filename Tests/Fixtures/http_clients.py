#!/usr/bin/python3
"""Misbehaving HTTP clients, for the server's connection tests (issue 12).

http_clients.py abandon URL STATUS_URL N
    Opens N connections, each asking URL for a range at a different offset
    (pieces nobody sends), waits until STATUS_URL reports N readers, then
    goes away: half the connections reset (SO_LINGER 0), half closed.
    Prints {"readers": n, "open_after": k} where k counts the connections
    the server still held when the readers were counted.
http_clients.py slow HOST PORT N SECONDS
    Opens N connections that send a request head one byte a second.
    Prints {"closed": c, "after": s} once the server closed them all, or
    after SECONDS with the count closed by then.
http_clients.py crowd HOST PORT N PATH
    Opens N connections that send nothing, then asks PATH on one more.
    Prints {"status": code, "body": text} for that last request.
"""
import json
import socket
import struct
import sys
import time
import urllib.parse
import urllib.request


def connect(host, port):
    s = socket.create_connection((host, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def readers(status_url):
    with urllib.request.urlopen(status_url, timeout=10) as r:
        return len(json.load(r)["readers"])


def abandon(url, status_url, n):
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    socks = []
    for i in range(n):
        s = connect(u.hostname, u.port)
        start = (i + 1) * 65537
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nRange: bytes={start}-\r\n\r\n".encode())
        socks.append(s)
    count = 0
    deadline = time.time() + 30
    while time.time() < deadline:
        count = readers(status_url)
        if count >= n:
            break
        time.sleep(0.2)
    still_open = 0
    for s in socks:
        s.setblocking(False)
        try:
            still_open += 1 if s.recv(1 << 20, socket.MSG_PEEK) != b"" else 0
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
    for i, s in enumerate(socks):
        if i % 2 == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print(json.dumps({"readers": count, "open_after": still_open}), flush=True)


def slow(host, port, n, seconds):
    # A head that never ends: a header value growing a byte a second.
    def byte(k):
        prefix = f"GET /api/streams HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode()
        return prefix[k : k + 1] if k < len(prefix) else b"a"

    socks = [connect(host, port) for _ in range(n)]
    closed = set()
    start = time.time()
    k = 0
    while time.time() - start < seconds and len(closed) < n:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.send(byte(k))
                s.setblocking(False)
                try:
                    s.recv(4096)
                    closed.add(i)  # an answer or the end of the connection
                except BlockingIOError:
                    pass
                s.setblocking(True)
            except OSError:
                closed.add(i)
        k += 1
        time.sleep(1)
    print(json.dumps({"closed": len(closed), "after": round(time.time() - start, 1)}), flush=True)


def crowd(host, port, n, path):
    socks = [connect(host, port) for _ in range(n)]
    time.sleep(0.5)
    s = connect(host, port)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    print(json.dumps({"status": status, "body": body.decode(errors="replace")}), flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "abandon":
        abandon(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "slow":
        slow(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "crowd":
        crowd(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
