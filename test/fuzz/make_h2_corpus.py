#!/usr/bin/python3
"""Writes the seed corpus of http2_server_fuzz: valid HTTP/2 client byte streams made with the
`h2` module (Debian python3-h2; run with /usr/bin/python3), plus a few hand-built frames for what
h2 will not send (CONTINUATION, floods).

Each seed is one flags byte (see kFlag* in http2_server_fuzz.cc) and the bytes a client sends
after the connection preface, which the harness sends itself.

    /usr/bin/python3 test/fuzz/make_h2_corpus.py   # rewrites corpus/http2_server_fuzz/seed_*
"""

import os
import sys

import h2.config
import h2.connection
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SMALL_LIMITS, DRAIN, SPLIT, NO_READ, TIMERS = 0x01, 0x02, 0x04, 0x08, 0x10

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http2_server_fuzz")


def request(path, method="GET", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", "fuzz"),
            (":path", path)] + list(extra)


def plain_literals(encoder, huffman=False):
    """Makes an hpack.Encoder write its literals plain (or Huffman-coded with huffman=True):
    plain literals keep paths and names visible to the fuzzer's mutations."""
    encode = encoder.encode
    encoder.encode = lambda headers, huffman=huffman: encode(headers, huffman)
    return encoder


class Client:
    """An h2 client connection whose output is collected without the preface."""

    def __init__(self, huffman=False):
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                     validate_outbound_headers=False))
        plain_literals(self.conn.encoder, huffman)
        self.conn.initiate_connection()
        self.out = self.conn.data_to_send()
        assert self.out.startswith(PREFACE)
        self.out = self.out[len(PREFACE):]

    def take(self):
        self.out += self.conn.data_to_send()
        return self

    def bytes(self, flags=0):
        self.take()
        return bytes([flags]) + self.out


def raw_settings():
    return SettingsFrame(0).serialize()


def seeds():
    s = {}

    c = Client()
    c.conn.send_headers(1, request("/"), end_stream=True)
    s["get_no_route"] = c.bytes()

    c = Client()
    c.conn.send_headers(1, request("/u", extra=[("user-agent", "seed"), ("accept", "*/*")]),
                        end_stream=True)
    s["get_upstream"] = c.bytes()

    c = Client(huffman=True)
    c.conn.send_headers(1, request("/u/huffman"), end_stream=True)
    s["get_upstream_huffman"] = c.bytes()

    c = Client()
    c.conn.send_headers(1, request("/r"), end_stream=True)
    s["get_refused"] = c.bytes()

    c = Client()
    c.conn.send_headers(1, request("/u/post", "POST", [("content-length", "11")]))
    c.conn.send_data(1, b"hello world", end_stream=True)
    s["post_content_length"] = c.bytes()

    c = Client()
    c.conn.send_headers(1, request("/u/post", "POST", [("content-length", "3"),
                                                       ("expect", "100-continue")]))
    c.conn.send_data(1, b"abc", end_stream=True)
    s["post_expect_continue"] = c.bytes()

    # No content-length: the upstream gets it chunked, with the request's trailers.
    c = Client()
    c.conn.send_headers(1, request("/u/chunk", "POST", [("te", "trailers"), ("trailer", "x-sum")]))
    c.conn.send_data(1, b"part one ")
    c.conn.send_data(1, b"part two")
    c.conn.send_headers(1, [("x-sum", "17")], end_stream=True)
    s["post_chunked_trailers"] = c.bytes()

    # A response larger than the stream window: WINDOW_UPDATEs let it through.
    c = Client()
    c.conn.send_headers(1, request("/u/big"), end_stream=True)
    c.conn.increment_flow_control_window(1 << 20)
    c.conn.increment_flow_control_window(1 << 20, stream_id=1)
    s["big_window_update"] = c.bytes()
    s["big_no_read"] = c.bytes(NO_READ)

    c = Client()
    for i, path in enumerate(["/u/close", "/u/empty", "/u/bad", "/x", "/r/1"]):
        c.conn.send_headers(1 + 2 * i, request(path), end_stream=True)
    c.conn.send_headers(11, request("/u/grpc", "POST", [("content-type", "application/grpc"),
                                                        ("te", "trailers")]))
    c.conn.send_data(11, b"\x00\x00\x00\x00\x00", end_stream=True)
    s["many_streams"] = c.bytes()
    s["many_streams_small_limits"] = c.bytes(SMALL_LIMITS)
    s["many_streams_drain"] = c.bytes(DRAIN)
    s["many_streams_split"] = c.bytes(SPLIT | 0x20)  # 16-byte pieces
    s["many_streams_timers"] = c.bytes(TIMERS)

    # Request then reset before the body ends (rapid reset's single step).
    c = Client()
    c.conn.send_headers(1, request("/u/post", "POST"))
    c.conn.send_data(1, b"abc")
    c.conn.reset_stream(1)
    c.conn.send_headers(3, request("/u"), end_stream=True)
    c.conn.reset_stream(3)
    s["rst_stream"] = c.bytes()
    s["rst_stream_small_limits"] = c.bytes(SMALL_LIMITS)

    # The upstream stops reading: the body backs up (readDisable) over the small watermark.
    c = Client()
    c.conn.send_headers(1, request("/u/stall", "POST"))
    c.conn.increment_flow_control_window(1 << 20)
    for _ in range(4):
        c.conn.send_data(1, b"s" * 1000)
    c.conn.send_headers(3, request("/u/big"), end_stream=True)
    s["stalled_upstream_small_limits"] = c.bytes(SMALL_LIMITS)

    # The upstream dies mid-body; a stream still sending its body when timeouts.request fires.
    c = Client()
    c.conn.send_headers(1, request("/u/cut"), end_stream=True)
    c.conn.send_headers(3, request("/u/stall", "POST"))
    c.conn.send_data(3, b"more to come")
    s["cut_and_timeout"] = c.bytes(TIMERS)

    c = Client()
    c.conn.ping(b"12345678")
    c.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024,
                            h2.settings.SettingCodes.MAX_FRAME_SIZE: 16384})
    c.conn.send_headers(1, request("/u/big"), end_stream=True)
    c.conn.ping(b"abcdefgh")
    s["ping_settings"] = c.bytes()

    # Cookie crumbs are joined; CONNECT and unknown methods get 501; too many headers 431.
    c = Client()
    c.conn.send_headers(1, request("/u", extra=[("cookie", "a=1"), ("cookie", "b=2")]),
                        end_stream=True)
    c.conn.send_headers(3, [(":method", "CONNECT"), (":authority", "fuzz:443")], end_stream=True)
    c.conn.send_headers(5, request("/u", "BREW"), end_stream=True)
    c.conn.send_headers(7, request("/u", extra=[("x-h%d" % i, "v") for i in range(12)]),
                        end_stream=True)
    s["odd_requests"] = c.bytes()
    s["odd_requests_small_limits"] = c.bytes(SMALL_LIMITS)

    c = Client()
    c.conn.send_headers(1, request("/u"), end_stream=True)
    c.conn.close_connection()
    s["goaway"] = c.bytes()

    # Hand-built: a header block in HEADERS + CONTINUATIONs, with literal fields never indexed,
    # then PRIORITY, an empty DATA, SETTINGS and PING floods (over the small budgets).
    enc = plain_literals(hpack.Encoder())
    block = enc.encode(request("/u/cont") +
                       [hpack.NeverIndexedHeaderTuple("authorization", "secret"),
                        ("x-long", "v" * 40)])
    parts = [block[i:i + 16] for i in range(0, len(block), 16)]
    frames = raw_settings()
    h = HeadersFrame(1, parts[0])
    h.flags.add("END_STREAM")
    frames += h.serialize()
    for i, p in enumerate(parts[1:], 1):
        cf = ContinuationFrame(1, p)
        if i == len(parts) - 1:
            cf.flags.add("END_HEADERS")
        frames += cf.serialize()
    s["continuation"] = bytes([0]) + frames
    s["continuation_small_limits"] = bytes([SMALL_LIMITS]) + frames
    # A header block never finished: only the idle timeout ends the connection.
    s["unfinished_headers_timers"] = bytes([TIMERS]) + frames[:len(frames) - 9 - len(parts[-1])]

    frames = raw_settings()
    frames += HeadersFrame(1, enc.encode(request("/u/post", "POST")), flags=["END_HEADERS"]).serialize()
    frames += PriorityFrame(1, depends_on=0, stream_weight=16).serialize()
    for _ in range(6):
        frames += DataFrame(1, b"").serialize()
    frames += DataFrame(1, b"tail", flags=["END_STREAM"]).serialize()
    s["empty_data_flood"] = bytes([SMALL_LIMITS]) + frames

    frames = raw_settings() + b"".join(SettingsFrame(0).serialize() for _ in range(6))
    s["settings_flood"] = bytes([SMALL_LIMITS]) + frames
    frames = raw_settings() + b"".join(PingFrame(0, b"%08d" % i).serialize() for i in range(6))
    s["ping_flood"] = bytes([SMALL_LIMITS]) + frames
    frames = raw_settings()
    for i in range(6):
        sid = 1 + 2 * i
        frames += HeadersFrame(sid, enc.encode(request("/u")), flags=["END_HEADERS"]).serialize()
        frames += RstStreamFrame(sid, 8).serialize()
    s["rapid_reset"] = bytes([SMALL_LIMITS]) + frames

    # The request head checks (codec/request_head.h): dot segments and encoded dots that the
    # codec normalizes, and a fragment, a climb above the root, a bad or disagreeing authority
    # and CONNECT that it refuses, several streams on one connection.
    c = Client()
    heads = [request("/x/../u/dots"), request("/x/%2e%2E/u/%41?q=/../%2e"), request("/u#frag"),
             request("/../u"), request("/u/%zz"), request("/u", extra=[("host", "other")]),
             [(":method", "GET"), (":scheme", "http"), (":authority", "user@fuzz"),
              (":path", "/u")],
             [(":method", "CONNECT"), (":authority", "fuzz:443")]]
    for i, head in enumerate(heads):
        c.conn.send_headers(1 + 2 * i, head, end_stream=True)
    s["request_target_checks"] = c.bytes()

    frames = raw_settings() + WindowUpdateFrame(0, 0).serialize()  # a zero increment: an error
    s["window_update_zero"] = bytes([0]) + frames
    frames = raw_settings() + GoAwayFrame(0, 0, 0).serialize()
    s["goaway_raw"] = bytes([0]) + frames
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(OUT, "seed_" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
