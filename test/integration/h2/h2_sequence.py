#!/usr/bin/python3
"""Sends requests one after another on one prior-knowledge h2c connection, each only after the
one before has ended, so the server reuses what the previous stream left behind.

usage: h2_sequence.py PORT [heads]
Requests, on streams 1, 3, 5, 7:
  1. POST /headers, :authority first.example, cookie a=1, x-first: yes, body "abc"
  2. GET /headers
  3. GET /headers with a 6000-byte x-big header
  4. GET /headers?last
With "heads", the request head checks instead (codec/request_head.h), on streams 1 to 11:
  1. host b.example beside :authority a.example      4. CONNECT
  2. host A.example beside :authority a.example      5. :path /x/%2e%2e/headers
  3. two host headers (nghttp2 resets it)            6. :path /headers#top
A stream reset without a response prints "=== ?".
For each response prints "=== <status>" and then its body.
Run with /usr/bin/python3 (Debian's python3-h2).
"""

import socket
import sys

import h2.config
import h2.connection
import h2.events


def main():
    port = int(sys.argv[1])
    authority = "127.0.0.1:%d" % port
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, validate_outbound_headers=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    base = [(":scheme", "http"), (":authority", authority)]
    requests = [
        ([(":method", "POST"), (":path", "/headers"), (":scheme", "http"),
          (":authority", "first.example"), ("cookie", "a=1"), ("x-first", "yes"),
          ("content-length", "3")], b"abc"),
        ([(":method", "GET"), (":path", "/headers")] + base, None),
        ([(":method", "GET"), (":path", "/headers")] + base + [("x-big", "x" * 6000)], None),
        ([(":method", "GET"), (":path", "/headers?last")] + base, None),
    ]
    if sys.argv[2:] == ["heads"]:
        get = [(":method", "GET"), (":scheme", "http"), (":authority", "a.example")]
        requests = [
            (get + [(":path", "/headers"), ("host", "b.example")], None),
            (get + [(":path", "/headers"), ("host", "A.example")], None),
            (get + [(":path", "/headers"), ("host", "a.example"), ("host", "a.example")], None),
            ([(":method", "CONNECT"), (":authority", "a.example:443")], None),
            (get + [(":path", "/x/%2e%2e/headers")], None),
            (get + [(":path", "/headers#top")], None),
        ]
    for headers, body in requests:
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, headers, end_stream=body is None)
        if body is not None:
            conn.send_data(sid, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        status, data, done = "?", b"", False
        while not done:
            chunk = sock.recv(65536)
            if not chunk:
                print("CLOSED")
                return
            for ev in conn.receive_data(chunk):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    status = dict(ev.headers).get(b":status", b"?").decode()
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    data += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)) \
                        and ev.stream_id == sid:
                    done = True
            sock.sendall(conn.data_to_send())
        print("=== " + status)
        sys.stdout.write(data.decode(errors="replace"))
    sock.close()


if __name__ == "__main__":
    main()
