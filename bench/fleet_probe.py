#!/usr/bin/python3
"""Pushes one config to a fleet of Remora sidecars through etcd and times the ACKs.

Opens a watch on <prefix>status/ through etcd's JSON gateway, writes <prefix>config, and records
when each instance's status with the new revision and state ACK arrives. Prints one JSON line:
per-sidecar latency from the etcd write (p50/p99/max, ms), how many ACKed, NACKed, and the put's
revision. Standard library only.
"""
import base64
import http.client
import json
import sys
import threading
import time


def b64(s):
    return base64.b64encode(s.encode()).decode()


def prefix_end(p):
    return p[:-1] + chr(ord(p[-1]) + 1)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    prefix, count, config_path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
    status_prefix = prefix + "status/"
    arrivals = []  # (monotonic time, value dict)
    created = threading.Event()

    def watch():
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout + 5)
        body = {"create_request": {"key": b64(status_prefix),
                                   "range_end": b64(prefix_end(status_prefix))}}
        conn.request("POST", "/v3/watch", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        while True:
            line = resp.readline()
            if not line:
                return
            now = time.monotonic()
            msg = json.loads(line).get("result", {})
            if msg.get("created"):
                created.set()
            for ev in msg.get("events", []):
                value = base64.b64decode(ev["kv"].get("value", "")).decode()
                try:
                    arrivals.append((now, json.loads(value)))
                except ValueError:
                    pass

    threading.Thread(target=watch, daemon=True).start()
    if not created.wait(10):
        sys.exit("watch not created")
    config = open(config_path).read()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    t0 = time.monotonic()
    conn.request("POST", "/v3/kv/put", json.dumps({"key": b64(prefix + "config"), "value": b64(config)}),
                 {"Content-Type": "application/json"})
    put = json.loads(conn.getresponse().read())
    put_ms = (time.monotonic() - t0) * 1000
    revision = put["header"]["revision"]

    acked, nacked = {}, {}
    deadline = t0 + timeout
    seen = 0
    while time.monotonic() < deadline and len(acked) + len(nacked) < count:
        time.sleep(0.005)
        for at, v in arrivals[seen:]:
            if v.get("revision") != revision:
                continue
            target = acked if v.get("state") == "ACK" else nacked
            target.setdefault(v.get("instance"), (at - t0) * 1000)
        seen = len(arrivals)
    lat = sorted(acked.values())

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))], 1) if lat else None

    print(json.dumps({"sidecars": count, "acked": len(acked), "nacked": len(nacked),
                      "revision": revision, "put_ms": round(put_ms, 1), "p50_ms": pct(50),
                      "p99_ms": pct(99), "max_ms": round(lat[-1], 1) if lat else None}))
    sys.exit(0 if len(acked) == count else 1)


if __name__ == "__main__":
    main()
