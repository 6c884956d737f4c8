#!/usr/bin/python3
"""A private Mainline DHT on loopback for Matinee's tests: python3-libtorrent.

dht_node.py --count N [--port P ...] [--host ADDR ...]

Starts N libtorrent sessions, each a DHT node on its own port of 127.0.0.1
(or of the --host addresses, taken in turn: 127.0.1.1, 127.0.2.1, ... or an
address inside a test's network namespace), tells
each about every other (bootstrap routers never enter routing tables, so they
are added as plain nodes), waits until every routing table holds the others,
prints {"nodes": ["127.0.0.1:P", ...]} on one line, and runs until killed.
"""
import argparse
import json
import time
import warnings

import libtorrent as lt


def node(host, port):
    return lt.session({
        "listen_interfaces": "%s:%d" % (host, port),
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
    ap.add_argument("--host", action="append", default=[])
    a = ap.parse_args()
    ports = list(a.port)
    hosts = a.host or ["127.0.0.1"]
    sessions = []
    for i in range(a.count):
        s = node(hosts[i % len(hosts)], ports[i] if i < len(ports) else 0)
        sessions.append(s)
    for _ in range(200):
        if all(s.listen_port() for s in sessions):
            break
        time.sleep(0.05)
    addrs = [(hosts[i % len(hosts)], s.listen_port()) for i, s in enumerate(sessions)]
    for i, s in enumerate(sessions):
        for j, addr in enumerate(addrs):
            if j != i:
                s.add_dht_node(addr)
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
    print(json.dumps({"nodes": ["%s:%d" % addr for addr in addrs]}), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
