#!/usr/bin/python3
"""Matinee's fault campaign (issue 12): the daemon as users run it, on
loopback, against real python3-libtorrent seeders, with faults injected.

    Benchmarks/fault-campaign/campaign.py [--kills N] [--only NAME,...]

Scenarios (all by default): kills, seeders-leave, corrupt-peer, full-disk,
abandoned-clients, slow-clients, restarts. Each prints what it found; the summary at
the end is what docs/reliability.md records. Needs the debug build
(MATINEE_BIN, or .build/debug/matinee-static from scripts/build-static);
full-disk needs root (a tmpfs) and is skipped with a message otherwise.
Not part of the README's test command: it takes minutes.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MATINEE_BIN", ROOT + "/.build/debug/matinee-static")
SEEDER = ROOT + "/Tests/Fixtures/lt_seeder.py"
MiB = 1 << 20


class World:
    """A home, a film and its seeders."""

    def __init__(self, size_mib=64, seeders=3, rate=MiB, piece=MiB, corrupt=0):
        self.dir = tempfile.mkdtemp(prefix="matinee-campaign-")
        os.makedirs(self.dir + "/data")
        self.film = self.dir + "/data/film.mp4"
        with open(self.film, "wb") as f:
            f.write(os.urandom(size_mib * MiB))
        self.size = size_mib * MiB
        self.piece = piece
        self.torrent = self.dir + "/film.torrent"
        self.seeders = []
        for i in range(seeders + corrupt):
            # A corrupt peer gets an address of its own (127.0.0.2): libtorrent
            # drops every connection from a banned peer's address, as it
            # would from one host on the internet.
            host = "127.0.0.2" if i >= seeders else "127.0.0.1"
            args = ["/usr/bin/python3", SEEDER, "seed", "--data", self.film, "--piece-size", str(piece),
                    "--upload-limit", str(rate), "--listen", "%s:%d" % (host, free_port())]
            args += ["--torrent-out", self.torrent] if i == 0 else ["--torrent-in", self.torrent]
            if i >= seeders:
                args.append("--corrupt")
            args += ["--stats", "%s/seeder-%d.json" % (self.dir, i)]
            p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            info = json.loads(p.stdout.readline())
            self.seeders.append((p, "%s:%d" % (host, info["port"])))
        self.env = dict(os.environ, MATINEE_HOME=self.dir + "/home")
        self.daemon = None
        self.player = None

    def uploaded(self):
        """Bytes the seeders sent, in all."""
        time.sleep(1.2)
        total = 0
        for i in range(len(self.seeders)):
            try:
                with open("%s/seeder-%d.json" % (self.dir, i)) as f:
                    total += json.load(f)["uploaded"]
            except (OSError, ValueError):
                pass
        return total

    def peers(self):
        return sum([["--peer", a] for _, a in self.seeders], [])

    def serve(self, extra=()):
        self.daemon = subprocess.Popen([BIN, "serve", "--dht-node", "127.0.0.1:1", *extra], env=self.env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while True:
            line = self.daemon.stdout.readline()
            if not line:
                raise SystemExit("the daemon did not start: " + self.daemon.stderr.read()[-2000:])
            if line.startswith("http://127.0.0.1:"):
                self.base = line.strip()
                return

    def play(self):
        p = subprocess.Popen([BIN, "play", self.torrent, "--dht-node", "127.0.0.1:1", *self.peers()], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        while True:
            line = p.stdout.readline()
            if line.startswith("http://"):
                self.url = line.strip()
                self.status_url = self.url.split("?")[0].replace("/stream/", "/api/streams/")
                if self.player:
                    self.player.kill()
                self.player = p  # a client of the daemon: kept while the stream is used
                return

    def status(self):
        with urllib.request.urlopen(self.status_url, timeout=10) as r:
            return json.load(r)

    def close(self):
        if self.player:
            self.player.kill()
        if self.daemon:
            self.daemon.kill()
            self.daemon.wait()
        for p, _ in self.seeders:
            p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read(url, start, n, timeout=120):
    req = urllib.request.Request(url, headers={"Range": "bytes=%d-%d" % (start, start + n - 1)})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def wrong_bytes(world, got, start):
    with open(world.film, "rb") as f:
        f.seek(start)
        want = f.read(len(got))
    return sum(1 for a, b in zip(got, want) if a != b) if got != want else 0


def kills(n):
    """SIGKILL the daemon at random points while a player reads on; restart."""
    w = World(size_mib=160, seeders=3, rate=MiB)
    try:
        w.serve()
        w.play()
        wrong, offset, rng, at_last_kill = 0, 0, random.Random(12), 0
        for k in range(n + 1):
            deadline = time.time() + (rng.uniform(1.0, 4.0) if k < n else 600)
            while time.time() < deadline and offset < w.size:
                try:
                    chunk = read(w.url, offset, min(MiB, w.size - offset), timeout=30)
                except Exception:
                    break
                wrong += wrong_bytes(w, chunk, offset)
                offset += len(chunk)
            if k < n:
                at_last_kill = offset
                w.daemon.kill()
                w.daemon.wait()
                w.serve()
                w.play()
        whole = read(w.url, 0, w.size)
        wrong += wrong_bytes(w, whole, 0)
        extra = max(0, w.uploaded() - w.size) / w.piece
        return {"kills": n, "MiB read by the last kill": at_last_kill >> 20, "bytes wrong": wrong,
                "pieces re-downloaded per kill": round(extra / max(n, 1), 2)}
    finally:
        w.close()


def seeders_leave():
    """A player at 0.6x of capacity; three of four seeders leave mid-stream."""
    w = World(size_mib=64, seeders=4, rate=MiB)
    try:
        w.serve()
        w.play()
        rate = 0.6 * 4 * MiB
        start, offset, stall, wrong, killed = time.time(), 0, 0.0, 0, False
        while offset < w.size:
            t = time.time()
            chunk = read(w.url, offset, min(MiB, w.size - offset))
            wrong += wrong_bytes(w, chunk, offset)
            offset += len(chunk)
            due = start + offset / rate
            if time.time() > due + 0.5:
                stall = max(stall, time.time() - max(t, due - len(chunk) / rate))
            if not killed and offset >= w.size // 3:
                for p, _ in w.seeders[1:]:
                    p.kill()
                killed = True
                rate = 0.6 * MiB  # what the one left can carry
                start, offset0 = time.time(), offset
                start -= offset0 / rate
            if time.time() < due:
                time.sleep(due - time.time())
        return {"longest stall s": round(stall, 2), "bytes wrong": wrong}
    finally:
        w.close()


def corrupt_peer():
    """One good seeder and one that sends every byte wrong."""
    w = World(size_mib=16, seeders=1, rate=2 * MiB, corrupt=1)
    try:
        w.serve()
        w.play()
        whole = read(w.url, 0, w.size)
        with urllib.request.urlopen(w.status_url + "/peers", timeout=10) as r:
            view = json.load(r)
        return {"bytes wrong": wrong_bytes(w, whole, 0), "banned": len(view["banned"])}
    finally:
        w.close()


def full_disk():
    """The download folder on a 24 MiB tmpfs, a 64 MiB film; then room."""
    if os.geteuid() != 0:
        return {"skipped": "needs root for a tmpfs"}
    w = World(size_mib=64, seeders=2, rate=4 * MiB)
    disk = w.dir + "/small"
    os.makedirs(disk)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", disk], check=True)
    try:
        w.serve(["--download-dir", disk])
        w.play()
        t = time.time()
        said = None
        while time.time() - t < 60 and said is None:
            said = w.status().get("problem")
            time.sleep(0.2)
        subprocess.run(["mount", "-o", "remount,size=128m", disk], check=True)
        t = time.time()
        whole = read(w.url, 0, w.size)
        return {"said": said, "finished after room s": round(time.time() - t, 1), "bytes wrong": wrong_bytes(w, whole, 0)}
    finally:
        w.close()
        subprocess.run(["umount", "-l", disk])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def abandoned_clients(n=300):
    """Range requests for pieces nobody has, abandoned (half reset, half closed)."""
    w = World(size_mib=64, seeders=1, rate=MiB)
    w.seeders[0][0].kill()
    w.seeders = []
    try:
        w.serve()
        w.play()
        pid = w.daemon.pid
        time.sleep(1)
        fds0, rss0 = len(os.listdir("/proc/%d/fd" % pid)), rss_kib(pid)
        host, port = "127.0.0.1", int(w.url.split(":")[2].split("/")[0])
        path = w.url.split(str(port), 1)[1]
        socks = []
        for i in range(n):
            s = socket.create_connection((host, port))
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nRange: bytes=%d-\r\n\r\n" % (path, host, port, (i + 1) * 200003)).encode())
            socks.append(s)
        time.sleep(2)
        peak = len(w.status()["readers"])
        for i, s in enumerate(socks):
            if i % 2 == 0:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        time.sleep(2)
        left = len([r for r in w.status()["readers"] if r % 200003 == 0 and r > 0])
        return {"abandoned": n, "readers while open": peak, "readers left": left,
                "descriptors left": len(os.listdir("/proc/%d/fd" % pid)) - fds0, "RSS change KiB": rss_kib(pid) - rss0}
    finally:
        w.close()


def slow_clients(n=100):
    """Clients sending a request head a byte a second."""
    w = World(size_mib=4, seeders=1, rate=MiB)
    try:
        w.serve()
        port = int(w.base.rsplit(":", 1)[1].split("/")[0])
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        head = b"GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        closed, t0 = set(), time.time()
        for k in range(30):
            for i, s in enumerate(socks):
                if i in closed:
                    continue
                try:
                    s.send(head[k:k + 1] if k < len(head) else b"a")
                    s.setblocking(False)
                    try:
                        s.recv(1)
                        closed.add(i)
                    except BlockingIOError:
                        pass
                    s.setblocking(True)
                except OSError:
                    closed.add(i)
            if len(closed) == n:
                break
            time.sleep(1)
        return {"slow clients": n, "closed by the server": len(closed), "after s": round(time.time() - t0, 1)}
    finally:
        w.close()


def restarts(rounds=3):
    """A stream, the daemon stopped (SIGTERM or SIGKILL) and started again;
    6 s later (the torrent restored and downloading) a reader opens far from
    the old playhead. Its first MiB, against a fresh home's in the same run."""
    def first_mib(w, offset):
        t = time.time()
        read(w.url, offset, MiB, timeout=60)
        return time.time() - t

    def trial(sig):
        w = World(size_mib=96, seeders=3, rate=640 * 1024)
        try:
            w.serve()
            if sig is not None:
                w.play()
                offset, end = 0, time.time() + 5
                while time.time() < end:
                    read(w.url, offset, MiB)
                    offset += MiB
                w.daemon.send_signal(sig)
                w.daemon.wait()
                w.player.kill()
                w.player = None
                w.serve()
            time.sleep(6)
            t = time.time()
            w.play()
            opened = time.time() - t
            return opened, first_mib(w, 72 * MiB)
        finally:
            w.close()

    seen = {"fresh": [], "SIGTERM": [], "SIGKILL": []}
    for _ in range(rounds):
        for name, sig in (("fresh", None), ("SIGTERM", signal.SIGTERM), ("SIGKILL", signal.SIGKILL)):
            seen[name].append(trial(sig))
    return {"%s: open s, first MiB s" % k: [[round(a, 2), round(b, 2)] for a, b in v] for k, v in seen.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    scenarios = {"kills": lambda: kills(a.kills), "seeders-leave": seeders_leave, "corrupt-peer": corrupt_peer,
                 "full-disk": full_disk, "abandoned-clients": abandoned_clients, "slow-clients": slow_clients, "restarts": restarts}
    chosen = [s for s in a.only.split(",") if s] or list(scenarios)
    results = {}
    for name in chosen:
        t = time.time()
        print("%s…" % name, file=sys.stderr, flush=True)
        results[name] = scenarios[name]()
        results[name]["took s"] = round(time.time() - t, 1)
        print("%-18s %s" % (name, json.dumps(results[name])), flush=True)


if __name__ == "__main__":
    main()
