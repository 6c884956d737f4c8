#!/usr/bin/python3
"""A private Mainline DHT on loopback for Matinee's tests: python3-libtorrent.

dht_node.py --count N [--port P ...]

Starts N libtorrent sessions, each a DHT node on its own 127.0.0.1 port, tells
each about every other (bootstrap routers never enter routing tables, so they
are added as plain nodes), waits until every routing table holds the others,
prints {"nodes": ["127.0.0.1:P", ...]} on one line, and runs until killed.
"""
import argparse
import json
import time
import warnings

import libtorrent as lt


def node(port):
    return lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": True, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 100000,
        "alert_mask": 0,
        "user_agent": "dht-test-node",
    })


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--port", type=int, action="append", default=[])
    a = ap.parse_args()
    ports = list(a.port)
    sessions = []
    for i in range(a.count):
        s = node(ports[i] if i < len(ports) else 0)
        sessions.append(s)
    for _ in range(200):
        if all(s.listen_port() for s in sessions):
            break
        time.sleep(0.05)
    ports = [s.listen_port() for s in sessions]
    for s in sessions:
        for p in ports:
            if p != s.listen_port():
                s.add_dht_node(("127.0.0.1", p))
    # Wait until each table knows at least one other node (pings take a moment).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        counts = []
        for s in sessions:
            st = s.status()
            counts.append(st.dht_nodes)
        if all(c >= min(1, a.count - 1) for c in counts):
            break
        time.sleep(0.1)
    print(json.dumps({"nodes": ["127.0.0.1:%d" % p for p in ports]}), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
