#!/usr/bin/python3
"""Sends one POST with `expect: 100-continue` on a prior-knowledge h2c connection and holds its
body back until an interim 100 arrives (or WAIT seconds pass), then sends it.

usage: h2_expect.py PORT PATH [WAIT_SECONDS]
Prints one line per response head received ("HEAD <status>"), then "BODY <body>" once the
stream ends. Run with /usr/bin/python3 (Debian's python3-h2).
"""

import socket
import sys
import time

import h2.config
import h2.connection
import h2.events


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    wait = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    body = b"hello"
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":path", path), (":scheme", "http"),
                          (":authority", "127.0.0.1:%d" % port), ("expect", "100-continue"),
                          ("content-length", str(len(body)))])
    sock.sendall(conn.data_to_send())
    sent = False
    deadline = time.monotonic() + wait
    data = b""
    while True:
        if not sent and time.monotonic() >= deadline:
            print("NO_100")
            conn.send_data(1, body, end_stream=True)
            sock.sendall(conn.data_to_send())
            sent = True
        sock.settimeout(0.1 if not sent else 10)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            print("CLOSED")
            return
        for ev in conn.receive_data(chunk):
            if isinstance(ev, (h2.events.InformationalResponseReceived,
                               h2.events.ResponseReceived)):
                status = dict(ev.headers)[b":status"].decode()
                print("HEAD " + status)
                if status == "100" and not sent:
                    conn.send_data(1, body, end_stream=True)
                    sent = True
            elif isinstance(ev, h2.events.DataReceived):
                data += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, 1)
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                sock.sendall(conn.data_to_send())
                print("BODY " + data.decode(errors="replace").replace("\n", "|"))
                return
        sock.sendall(conn.data_to_send())


if __name__ == "__main__":
    main()
