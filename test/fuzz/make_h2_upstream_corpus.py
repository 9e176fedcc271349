#!/usr/bin/python3
"""Writes the seed corpus of http2_upstream_fuzz: what an HTTP/2 upstream server answers Remora,
made with the `h2` module (Debian python3-h2; run with /usr/bin/python3) acting as the server,
plus hand-built frames for what h2 will not send (CONTINUATION, malformed responses).

Each seed is one flags byte (see kMode*/kFlag* in http2_upstream_fuzz.cc) and the bytes the
upstream sends after its SETTINGS frame, which the harness sends itself, once Remora's first
request HEADERS arrived; after each WAIT, once Remora's next request HEADERS arrived; at a
CLOSE, the upstream closes the connection.

    /usr/bin/python3 test/fuzz/make_h2_upstream_corpus.py   # rewrites its seed_* files
"""

import os
import sys

import h2.config
import h2.connection
import h2.settings
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

from make_h2_corpus import plain_literals

GET, PIPELINE, HTTP2, CHUNKED = 0, 1, 2, 3
SPLIT, SMALL, TIMERS, SLOW_CLIENT = 0x04, 0x08, 0x10, 0x20
PIECE_1, PIECE_9, PIECE_64, PIECE_512 = 0x00, 0x40, 0x80, 0xc0
REFUSED_STREAM, CANCEL, PROTOCOL_ERROR = 7, 8, 1
# kWaitMarker: what follows waits until Remora sent its next request HEADERS; kCloseMarker: the
# upstream closes the connection there.
WAIT = b"\x00\x00\x00\xfe\x00\x00\x00\x00\x00"
CLOSE = b"\x00\x00\x00\xff\x00\x00\x00\x00\x00"

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http2_upstream_fuzz")


def request(path, method="GET"):
    return [(":method", method), (":scheme", "http"), (":authority", "x"), (":path", path)]


class Server:
    """An h2 server connection that has received Remora's preface, SETTINGS and the requests
    on `streams`; only what it sends from then on is kept."""

    def __init__(self, streams=(1,), method="GET"):
        client = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        # Remora's one SETTINGS frame: no push, its stream window (Http2Connection::setUpSession).
        client.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.ENABLE_PUSH: 0,
                                         h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
        client.initiate_connection()
        for sid in streams:
            client.send_headers(sid, request("/", method), end_stream=method == "GET")
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8",
                                     validate_outbound_headers=False))
        plain_literals(self.conn.encoder)
        self.conn.initiate_connection()
        self.conn.data_to_send()  # its SETTINGS: the harness sends its own
        self.conn.receive_data(client.data_to_send())
        self.out = self.conn.data_to_send()  # SETTINGS ACK

    def respond(self, sid, status="200", headers=(), body=None, trailers=None):
        fields = [(":status", status)] + list(headers)
        self.conn.send_headers(sid, fields, end_stream=body is None and trailers is None)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=trailers is None)
        if trailers is not None:
            self.conn.send_headers(sid, trailers, end_stream=True)
        return self

    def raw(self, data):
        self.out += self.conn.data_to_send() + data
        return self

    def bytes(self, flags=0):
        self.out += self.conn.data_to_send()
        return bytes([flags]) + self.out


def seeds():
    s = {}

    ok = Server().respond(1, headers=[("content-type", "text/plain"), ("content-length", "5")],
                          body=b"hello")
    s["ok_body"] = ok.bytes()
    s["ok_body_split"] = ok.bytes(SPLIT | PIECE_9)
    s["ok_body_timers"] = ok.bytes(TIMERS)

    s["no_content"] = Server().respond(1, "204").bytes()
    s["not_modified"] = Server().respond(1, "304", [("etag", '"v1"')]).bytes()

    c = Server(method="POST").respond(
        1, headers=[("content-type", "application/grpc")], body=b"\x00\x00\x00\x00\x02hi",
        trailers=[("grpc-status", "0"), ("grpc-message", "ok")])
    s["grpc_trailers"] = c.bytes(CHUNKED)
    c = Server(method="POST").respond(
        1, headers=[("content-type", "application/grpc"), ("grpc-status", "14"),
                    ("grpc-message", "unavailable")])
    s["grpc_trailers_only"] = c.bytes(CHUNKED)

    c = Server()
    c.conn.send_headers(1, [(":status", "100")])
    c.conn.send_headers(1, [(":status", "103"), ("link", "</a.css>; rel=preload")])
    c.respond(1, body=b"after informational")
    s["informational_then_200"] = c.bytes()

    # Refused and goodbye: the request is retried on a new connection (the harness answers it).
    s["rst_refused"] = Server().raw(RstStreamFrame(1, REFUSED_STREAM).serialize()).bytes()
    s["rst_cancel_mid_body"] = Server().raw(
        HeadersFrame(1, plain_literals(hpack.Encoder()).encode([(":status", "200")]),
                     flags=["END_HEADERS"])
        .serialize() + DataFrame(1, b"partial").serialize() +
        RstStreamFrame(1, CANCEL).serialize()).bytes()
    s["goaway_last_zero"] = Server().raw(GoAwayFrame(0, 0, 0).serialize()).bytes()
    c = Server().respond(1, body=b"last one")
    c.conn.close_connection(last_stream_id=1)
    s["response_then_goaway"] = c.bytes()
    s["goaway_error_debug"] = Server().raw(
        GoAwayFrame(0, 0, PROTOCOL_ERROR, b"bye").serialize()).bytes()

    # A header block in HEADERS and CONTINUATIONs, large enough for several.
    enc = plain_literals(hpack.Encoder())
    block = enc.encode([(":status", "200")] + [("x-h%02d" % i, "v" * 60) for i in range(40)])
    parts = [block[i:i + 512] for i in range(0, len(block), 512)]
    frames = HeadersFrame(1, parts[0], flags=["END_STREAM"]).serialize()
    for i, p in enumerate(parts[1:], 1):
        frames += ContinuationFrame(1, p, flags=["END_HEADERS"] if i == len(parts) - 1 else []) \
            .serialize()
    s["huge_header_block"] = Server().raw(frames).bytes()

    # Request bodies stall on the upstream's 8-byte windows until its WINDOW_UPDATEs.
    c = Server(method="POST")
    c.raw(WindowUpdateFrame(0, 1 << 16).serialize() + WindowUpdateFrame(1, 1 << 16).serialize())
    c.respond(1, body=b"took it")
    s["flow_control_stall"] = c.bytes(CHUNKED | SMALL | SPLIT | PIECE_9)

    # Three concurrent downstream HTTP/2 streams: interleaved answers, one reset.
    c = Server(streams=(1, 3, 5))
    c.conn.send_headers(3, [(":status", "200"), ("content-length", "6")])
    c.conn.send_headers(1, [(":status", "404")])
    c.conn.send_data(3, b"three ")
    c.conn.send_data(1, b"one", end_stream=True)
    c.raw(RstStreamFrame(5, REFUSED_STREAM).serialize())
    s["http2_three_streams"] = c.bytes(HTTP2)
    s["http2_three_streams_small"] = c.bytes(HTTP2 | SMALL)

    # Pipelined HTTP/1.1: streams 1, 3, 5 open one after the other, each answer waits for its
    # request (or, split into small pieces, gives Remora the passes to open each stream).
    c = Server(streams=(1, 3, 5))
    for sid in (1, 3, 5):
        c.respond(sid, headers=[("content-length", "2")], body=b"ok").raw(WAIT)
    s["pipeline"] = c.bytes(PIPELINE)
    c = Server(streams=(1, 3, 5))
    for sid in (1, 3, 5):
        c.respond(sid, headers=[("content-length", "2")], body=b"ok")
    s["pipeline_split"] = c.bytes(PIPELINE | SPLIT | PIECE_9)

    # The upstream goes away mid-body (the response is cut), or between pipelined answers (the
    # next request goes on a new connection, which the harness answers).
    c = Server().raw(HeadersFrame(1, plain_literals(hpack.Encoder()).encode(
        [(":status", "200"), ("content-length", "100")]), flags=["END_HEADERS"]).serialize() +
        DataFrame(1, b"partial").serialize() + CLOSE)
    s["close_mid_body"] = c.bytes()
    s["close_mid_body_http2"] = c.bytes(HTTP2)
    c = Server(streams=(1,)).respond(1, headers=[("content-length", "2")], body=b"ok")
    s["pipeline_close"] = c.raw(CLOSE).bytes(PIPELINE)

    # A refused stream is retried on the same connection, as stream 3.
    c = Server(streams=(1, 3)).raw(RstStreamFrame(1, REFUSED_STREAM).serialize() + WAIT)
    s["rst_refused_retry"] = c.respond(3, body=b"second try").bytes()

    c = Server()
    c.raw(PingFrame(0, b"12345678").serialize())
    c.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1,
                            h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0})
    c.raw(WindowUpdateFrame(0, 1000).serialize())
    c.respond(1, body=b"after ping")
    s["ping_settings_window"] = c.bytes()

    # More response than the slow client takes (over the 4 KiB watermark): the stream is
    # read-disabled and its window held until the client catches up. Over HTTP/2, three streams.
    c = Server()
    c.conn.send_headers(1, [(":status", "200")])
    for _ in range(10):
        c.conn.send_data(1, b"b" * 500)
    c.conn.end_stream(1)
    s["slow_client_body"] = c.bytes(SLOW_CLIENT)
    c = Server(streams=(1, 3, 5))
    for sid in (1, 3, 5):
        c.conn.send_headers(sid, [(":status", "200")])
    for _ in range(10):
        c.conn.send_data(1, b"b" * 500)
    c.conn.send_data(3, b"c" * 100, end_stream=True)
    c.conn.end_stream(1)
    c.conn.end_stream(5)
    s["slow_client_body_http2"] = c.bytes(SLOW_CLIENT | HTTP2)

    # Nothing but the SETTINGS ACK: the response timeout fires (504), keepalive PINGs go out.
    s["silent_timers"] = Server().bytes(TIMERS)

    # Malformed responses: no :status, a content-length the body belies, DATA before HEADERS,
    # an upper-case field name, a connection-specific field.
    enc = plain_literals(hpack.Encoder())
    s["no_status"] = Server().raw(
        HeadersFrame(1, enc.encode([("x-a", "b")]), flags=["END_HEADERS", "END_STREAM"])
        .serialize()).bytes()
    s["content_length_mismatch"] = Server().respond(1, headers=[("content-length", "10")],
                                                    body=b"short").bytes()
    s["data_before_headers"] = Server().raw(DataFrame(1, b"early", flags=["END_STREAM"])
                                            .serialize()).bytes()
    enc = plain_literals(hpack.Encoder())
    s["bad_fields"] = Server().raw(
        HeadersFrame(1, enc.encode([(":status", "200"), ("X-Upper", "1"), ("connection", "x")]),
                     flags=["END_HEADERS", "END_STREAM"]).serialize()).bytes()
    s["settings_zero_window"] = Server().raw(
        SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0}).serialize()).bytes(
        CHUNKED)
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    all_seeds = seeds()
    for name, data in sorted(all_seeds.items()):
        with open(os.path.join(OUT, "seed_" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(all_seeds), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
