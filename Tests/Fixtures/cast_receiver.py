#!/usr/bin/python3
"""A Chromecast for the tests: Cast V2 (CASTV2) as a device speaks it, with
the Default Media Receiver's behaviour that a sender depends on.

- It is announced over mDNS as `_googlecast._tcp.local.` (python3-zeroconf),
  with the TXT keys a real device sends (id, fn, md, ve, ca, st, rs).
- TLS on its port with a self-signed certificate, as real devices have
  (theirs is signed by Google's device CA, which senders do not check for
  media playback either).
- Length-prefixed CastMessage frames (python3-pychromecast's generated
  protobuf module), JSON payloads, on four namespaces: connection (CONNECT,
  CLOSE), heartbeat (PING -> PONG), receiver (GET_STATUS, LAUNCH, STOP,
  SET_VOLUME) and media (GET_STATUS, LOAD, PLAY, PAUSE, SEEK, STOP), to the
  app's transport id only once a CONNECT reached it.
- LOAD makes it fetch the media URL as a player does: ffprobe reads the
  duration, then the body is read with a Range request from the byte the
  position stands at (a SEEK is a new Range request). Text tracks are fetched
  with an Origin header, as the receiver's web player does, and the CORS
  answer is reported. The position advances a second a second while playing.

Everything it sees goes to stdout as one JSON object a line, for the test:
{"event": "listening", ...}, {"event": "connect", "to": ...},
{"event": "load", "url": ..., "tracks": [...]}, {"event": "fetch", "range": ...,
"status": ...}, {"event": "track", "status": ..., "cors": ..., "head": ...},
{"event": "seek", ...}, {"event": "media-stop"}, {"event": "app-stop"}.
"""

import argparse
import json
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

from pychromecast import cast_channel_pb2 as pb

NS_CONNECTION = "urn:x-cast:com.google.cast.tp.connection"
NS_HEARTBEAT = "urn:x-cast:com.google.cast.tp.heartbeat"
NS_RECEIVER = "urn:x-cast:com.google.cast.receiver"
NS_MEDIA = "urn:x-cast:com.google.cast.media"
DEFAULT_MEDIA_RECEIVER = "CC1AD845"

lock = threading.Lock()


def say(**event):
    with lock:
        print(json.dumps(event), flush=True)


class Player:
    """The media session of the launched app: what plays, where, and how."""

    def __init__(self):
        self.session = 0
        self.media = None
        self.state = "IDLE"
        self.position = 0.0
        self.since = None  # monotonic time when PLAYING began
        self.duration = None
        self.fetcher = None
        self.generation = 0

    def now(self):
        if self.state == "PLAYING" and self.since is not None:
            t = self.position + (time.monotonic() - self.since)
            return min(t, self.duration) if self.duration else t
        return self.position

    def status(self):
        if self.media is None:
            return []
        s = {
            "mediaSessionId": self.session,
            "playbackRate": 1,
            "playerState": self.state,
            "currentTime": self.now(),
            "supportedMediaCommands": 15,
            "volume": {"level": 1, "muted": False},
            "activeTrackIds": self.media.get("activeTrackIds", []),
            "media": dict(self.media["media"], duration=self.duration),
        }
        if self.state == "IDLE":
            s["idleReason"] = "FINISHED"
        return [s]

    def fetch(self, url, at_seconds, generation):
        """Reads the body from the byte at `at_seconds`, as a player would."""
        if self.duration is None:
            self.duration = probe_duration(url)
            say(event="probe", duration=self.duration)
        size = None
        try:
            req = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(req, timeout=20) as r:
                size = int(r.headers.get("Content-Length", "0"))
        except Exception as e:  # noqa: BLE001
            say(event="fetch", range=None, status=str(e))
        start = 0
        if size and self.duration and at_seconds > 0:
            start = int(size * at_seconds / self.duration)
        req = urllib.request.Request(url, headers={"Range": f"bytes={start}-"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                say(event="fetch", range=f"bytes={start}-", status=r.status, size=size,
                    cors=r.headers.get("Access-Control-Allow-Origin"))
                with lock:
                    if self.state == "BUFFERING" and generation == self.generation:
                        self.state = "PLAYING"
                        self.since = time.monotonic()
                # Read on, slowly, until told otherwise (a seek or a stop).
                while generation == self.generation and self.state != "IDLE":
                    if not r.read(65536):
                        break
                    time.sleep(0.05)
        except Exception as e:  # noqa: BLE001
            say(event="fetch", range=f"bytes={start}-", status=getattr(e, "code", str(e)))

    def start_fetch(self, at):
        self.generation += 1
        url = self.media["media"]["contentId"]
        g = self.generation
        t = threading.Thread(target=self.fetch, args=(url, at, g), daemon=True)
        t.start()


def probe_duration(url):
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url],
            capture_output=True, text=True, timeout=30)
        return float(out.stdout.strip())
    except Exception:  # noqa: BLE001
        return None


def fetch_track(track):
    url = track.get("trackContentId")
    req = urllib.request.Request(url, headers={"Origin": "https://www.gstatic.com"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            body = r.read(4096).decode("utf-8", "replace")
            say(event="track", status=r.status, cors=r.headers.get("Access-Control-Allow-Origin"),
                type=r.headers.get("Content-Type"), head=body[:200])
    except Exception as e:  # noqa: BLE001
        say(event="track", status=getattr(e, "code", str(e)), cors=None)


class Device:
    def __init__(self, name):
        self.name = name
        self.app = None  # {"sessionId", "transportId"}
        self.volume = 1.0
        self.player = Player()

    def receiver_status(self):
        apps = []
        if self.app:
            apps.append({
                "appId": DEFAULT_MEDIA_RECEIVER, "displayName": "Default Media Receiver",
                "isIdleScreen": False, "sessionId": self.app["sessionId"],
                "transportId": self.app["transportId"], "statusText": "Ready To Cast",
                "namespaces": [{"name": NS_MEDIA}],
            })
        return {"applications": apps, "volume": {"level": self.volume, "muted": False, "controlType": "attenuation"},
                "isActiveInput": True, "isStandBy": False}


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def serve(conn, addr, device):
    connected = set()
    wlock = threading.Lock()

    def send(source, dest, ns, payload):
        m = pb.CastMessage()
        m.protocol_version = pb.CastMessage.CASTV2_1_0
        m.source_id = source
        m.destination_id = dest
        m.namespace = ns
        m.payload_type = pb.CastMessage.STRING
        m.payload_utf8 = json.dumps(payload)
        data = m.SerializeToString()
        with wlock:
            conn.sendall(struct.pack(">I", len(data)) + data)

    def broadcast_media(sender, request_id=0):
        p = device.player
        send(device.app["transportId"], sender, NS_MEDIA,
             {"type": "MEDIA_STATUS", "requestId": request_id, "status": p.status()})

    try:
        while True:
            (length,) = struct.unpack(">I", read_exact(conn, 4))
            if length > 65536:
                say(event="error", what="frame too long")
                return
            m = pb.CastMessage()
            m.ParseFromString(read_exact(conn, length))
            data = json.loads(m.payload_utf8) if m.payload_utf8 else {}
            t = data.get("type")
            rid = data.get("requestId", 0)
            src, dst, ns = m.source_id, m.destination_id, m.namespace
            if ns != NS_HEARTBEAT:
                say(event="message", ns=ns, type=t, to=dst, sender=src)
            if ns == NS_CONNECTION:
                if t == "CONNECT":
                    connected.add(dst)
                    say(event="connect", to=dst)
                elif t == "CLOSE":
                    connected.discard(dst)
                continue
            if dst not in connected:
                say(event="error", what=f"message to {dst} before CONNECT")
                continue
            if ns == NS_HEARTBEAT:
                if t == "PING":
                    send(dst, src, NS_HEARTBEAT, {"type": "PONG"})
                continue
            if ns == NS_RECEIVER:
                if t == "LAUNCH" and data.get("appId") == DEFAULT_MEDIA_RECEIVER:
                    device.app = {"sessionId": str(uuid.uuid4()), "transportId": "web-" + str(uuid.uuid4())[:8]}
                    device.player = Player()
                elif t == "LAUNCH":
                    send(dst, src, NS_RECEIVER, {"type": "LAUNCH_ERROR", "requestId": rid, "reason": "NOT_FOUND"})
                    continue
                elif t == "STOP":
                    if device.app and data.get("sessionId") in (None, device.app["sessionId"]):
                        device.player.generation += 1
                        device.app = None
                        say(event="app-stop")
                elif t == "SET_VOLUME":
                    device.volume = data.get("volume", {}).get("level", device.volume)
                    say(event="volume", level=device.volume)
                send(dst, src, NS_RECEIVER, {"type": "RECEIVER_STATUS", "requestId": rid, "status": device.receiver_status()})
                continue
            if ns == NS_MEDIA:
                if not device.app or dst != device.app["transportId"]:
                    say(event="error", what=f"media message to {dst}, not the app")
                    continue
                p = device.player
                if t == "LOAD":
                    media = data.get("media", {})
                    with lock:
                        p.generation += 1
                        p.session += 1
                        p.media = {"media": media, "activeTrackIds": data.get("activeTrackIds", [])}
                        p.state = "BUFFERING"
                        p.position = float(data.get("currentTime", 0) or 0)
                        p.since = None
                    say(event="load", url=media.get("contentId"), contentType=media.get("contentType"),
                        title=media.get("metadata", {}).get("title"), tracks=media.get("tracks", []),
                        active=data.get("activeTrackIds", []), autoplay=data.get("autoplay"))
                    for track in media.get("tracks", []) or []:
                        threading.Thread(target=fetch_track, args=(track,), daemon=True).start()
                    p.start_fetch(p.position)
                elif t == "PLAY" and p.state == "PAUSED":
                    p.state, p.since = "PLAYING", time.monotonic()
                elif t == "PAUSE" and p.state == "PLAYING":
                    p.position, p.state, p.since = p.now(), "PAUSED", None
                elif t == "SEEK":
                    at = float(data.get("currentTime", 0))
                    say(event="seek", to=at)
                    with lock:
                        was = p.state
                        p.position, p.since = at, (time.monotonic() if was == "PLAYING" else None)
                    p.start_fetch(at)
                elif t == "STOP":
                    p.generation += 1
                    p.position, p.state, p.since = p.now(), "IDLE", None
                    say(event="media-stop")
                broadcast_media(src, rid)
    except (EOFError, ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True, help="the IPv4 address to listen and announce on")
    ap.add_argument("--port", type=int, default=8009)
    ap.add_argument("--name", default="Kitchen Cast")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--no-mdns", action="store_true")
    args = ap.parse_args()

    device = Device(args.name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.address, args.port))
    listener.listen(8)

    zc = None
    if not args.no_mdns:
        from zeroconf import ServiceInfo, Zeroconf
        device_id = uuid.uuid4().hex
        zc = Zeroconf(interfaces=[args.address])
        info = ServiceInfo(
            "_googlecast._tcp.local.",
            f"Chromecast-{device_id}._googlecast._tcp.local.",
            addresses=[socket.inet_aton(args.address)], port=args.port,
            properties={"id": device_id, "cd": device_id.upper(), "rm": "", "ve": "05", "md": "Chromecast",
                        "ic": "/setup/icon.png", "fn": args.name, "ca": "201221", "st": "0", "bs": "FA8FCA000000",
                        "nf": "1", "rs": ""},
            server=f"{device_id}.local.")
        zc.register_service(info)
    say(event="listening", address=args.address, port=args.port, name=args.name)

    try:
        while True:
            raw, addr = listener.accept()
            try:
                conn = ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as e:
                say(event="error", what=f"TLS: {e}")
                raw.close()
                continue
            threading.Thread(target=serve, args=(conn, addr, device), daemon=True).start()
    finally:
        if zc:
            zc.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
