#!/usr/bin/python3
"""An independent BitTorrent peer for Matinee's tests: python3-libtorrent.

seed:   lt_seeder.py seed --data PATH [--torrent-out F | --torrent-in F]
            [--listen 127.0.0.1:PORT] [--tracker URL] [--upload-limit BYTES/S]
leech:  lt_seeder.py leech --torrent-in F --save DIR --peer HOST:PORT
            [--only-first N | --only FIRST:COUNT | --deadline FIRST:COUNT]
            (the benchmark's baseline: plain sequential download; with
            --only-first or --only, a leecher that wants only those pieces,
            the practical floor for a start or a seek; with --deadline, one
            that wants the whole file with deadlines on those pieces, as a
            libtorrent streaming client would set them after a seek)

Prints one JSON line on stdout when ready, then runs until killed.
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt


ENC = {"forced": 0, "enabled": 1, "disabled": 2}


def session(listen, enc="enabled"):
    s = lt.session({
        "out_enc_policy": ENC[enc], "in_enc_policy": ENC[enc], "allowed_enc_level": 3 if enc != "forced" else 2,
        "listen_interfaces": listen,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
        "user_agent": "lt-test-peer",
    })
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "leech"])
    ap.add_argument("--data")
    ap.add_argument("--torrent-out")
    ap.add_argument("--torrent-in")
    ap.add_argument("--save")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--tracker", action="append", default=[])
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--upload-limit", type=int, default=0)
    ap.add_argument("--piece-size", type=int, default=0)
    ap.add_argument("--encryption", choices=list(ENC), default="enabled")
    ap.add_argument("--only-first", type=int, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("--deadline", default="")
    ap.add_argument("--stats", help="seed: keep FILE holding {\"uploaded\": bytes sent}, every half second")
    ap.add_argument("--peers-log", help="seed: append a JSON line to FILE for every incoming connection "
                    "({\"incoming\": ip}) and for every peer seen connected ({\"peer\": ip, \"client\": name})")
    ap.add_argument("--corrupt", action="store_true",
                    help="seed: offer every piece but send wrong bytes (a copy of the data with every byte flipped)")
    a = ap.parse_args()

    s = session(a.listen, a.encryption)
    if a.mode == "seed":
        data = os.path.abspath(a.data)
        if a.torrent_in:
            ti = lt.torrent_info(a.torrent_in)
        else:
            fs = lt.file_storage()
            lt.add_files(fs, data)
            ct = lt.create_torrent(fs, a.piece_size)
            for i, t in enumerate(a.tracker):
                ct.add_tracker(t, i)
            lt.set_piece_hashes(ct, os.path.dirname(data))
            raw = lt.bencode(ct.generate())
            if a.torrent_out:
                with open(a.torrent_out, "wb") as f:
                    f.write(raw)
            ti = lt.torrent_info(lt.bdecode(raw))
        p = lt.add_torrent_params()
        p.ti = ti
        p.save_path = os.path.dirname(data)
        p.flags = lt.torrent_flags.seed_mode
        if a.corrupt:
            # seed_mode would hash each piece on its first request and stop
            # offering it; claimed pieces with no check send the bad bytes.
            bad = os.path.join(os.path.dirname(data), ".corrupt")
            os.makedirs(bad, exist_ok=True)
            with open(data, "rb") as src, open(os.path.join(bad, os.path.basename(data)), "wb") as dst:
                dst.write(bytes(b ^ 0xFF for b in src.read()))
            p.save_path = bad
            p.have_pieces = [True] * ti.num_pieces()
            p.flags = lt.torrent_flags.no_verify_files
            p.flags &= ~lt.torrent_flags.auto_managed
            p.flags &= ~lt.torrent_flags.paused
        h = s.add_torrent(p)
    else:
        ti = lt.torrent_info(a.torrent_in)
        p = lt.add_torrent_params()
        p.ti = ti
        p.save_path = a.save
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        if a.only_first:
            a.only = "0:%d" % a.only_first
        wanted = range(0)
        if a.only or a.deadline:
            first, count = (int(x) for x in (a.only or a.deadline).split(":"))
            wanted = range(first, min(first + count, ti.num_pieces()))
        if a.only:
            p.piece_priorities = [4 if i in wanted else 0 for i in range(ti.num_pieces())]
        h = s.add_torrent(p)
        if a.deadline:
            for n, i in enumerate(wanted):
                h.set_piece_deadline(i, 100 * n)
        elif not a.only:
            h.set_flags(lt.torrent_flags.sequential_download)
    if a.upload_limit:
        h.set_upload_limit(a.upload_limit)
    for peer in a.peer:
        host, port = peer.rsplit(":", 1)
        h.connect_peer((host, int(port)))
    # wait until listening
    for _ in range(200):
        if s.listen_port():
            break
        time.sleep(0.05)
    ih = ti.info_hashes()
    print(json.dumps({
        "port": s.listen_port(),
        "infohash": str(ih.v1) if ih.has_v1() else str(ih.v2)[:40],
        "magnet": lt.make_magnet_uri(ti),
        "pieces": ti.num_pieces(),
        "piece_length": ti.piece_length(),
    }), flush=True)
    # leech: report each piece as it completes, with a monotonic timestamp
    last = None
    seen_peers = set()
    if a.peers_log:
        s.apply_settings({"alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                          | lt.alert.category_t.connect_notification | lt.alert.category_t.peer_notification})
    while True:
        if a.mode == "leech":
            st = h.status(lt.torrent_handle.query_pieces)
            have = [i for i, b in enumerate(st.pieces) if b]
            if have != last:
                print(json.dumps({"t": time.monotonic(), "have": len(have),
                                  "prefix": next((i for i, b in enumerate(st.pieces) if not b), len(st.pieces)),
                                  "wanted": sum(1 for i in wanted if st.pieces[i])}), flush=True)
                last = have
            time.sleep(0.02)
        else:
            time.sleep(0.5 if not a.peers_log else 0.1)
            if a.peers_log:
                log_peers(s, h, a.peers_log, seen_peers)
            if a.stats:
                # what this seeder sent so far, for the fault campaign's count of re-downloads
                with open(a.stats + ".tmp", "w") as f:
                    f.write(json.dumps({"uploaded": h.status().all_time_upload}))
                os.replace(a.stats + ".tmp", a.stats)


def log_peers(s, h, path, seen):
    """Who reached this seeder: every incoming connection (from its alert, so a
    short one is not missed) and each connected peer's address and client name."""
    lines = []
    for alert in s.pop_alerts():
        if isinstance(alert, lt.incoming_connection_alert):
            lines.append({"incoming": alert.endpoint[0]})
    for p in h.get_peer_info():
        key = (p.ip[0], p.client)
        if key not in seen:
            seen.add(key)
            lines.append({"peer": p.ip[0], "client": p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) else p.client})
    if lines:
        with open(path, "a") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
