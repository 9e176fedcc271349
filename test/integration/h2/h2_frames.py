#!/usr/bin/python3
"""Raw HTTP/2 frame client for Remora's flood and abuse tests.

Speaks prior-knowledge h2c to HOST:PORT, sends one kind of abusive frame sequence, then reads
frames until a GOAWAY arrives or the connection closes, and prints one line:

    GOAWAY <error-code-name> <last-stream-id>
    CLOSED            (EOF or reset before any GOAWAY)
    TIMEOUT           (nothing within the time limit)

Run with /usr/bin/python3 (Debian's python3-h2 brings hyperframe and hpack).

usage: h2_frames.py PORT MODE COUNT [WAIT_SECONDS]
modes: rapid_reset, continuation, settings, ping, empty_data, window_overflow, ok, slow_fast

slow_fast is not abuse: stream 1 asks for a large body and never opens its window; stream 3 then
asks for COUNT bytes and does. Prints "FAST <bytes of stream 3> SLOW <bytes of stream 1>" once
stream 3 has ended (or after 10 s).
"""

import socket
import sys
import time

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
          6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 9: "COMPRESSION_ERROR",
          11: "ENHANCE_YOUR_CALM"}


def request_block(encoder, path="/"):
    return encoder.encode([(":method", "GET"), (":scheme", "http"), (":path", path),
                           (":authority", "127.0.0.1")])


def flood(sock, mode, count):
    enc = hpack.Encoder()
    out = bytearray()

    def send():
        try:
            sock.sendall(out)
        except OSError:
            pass  # the server may already have closed: the caller reads what it said
        out.clear()

    if mode == "rapid_reset":
        for i in range(count):
            sid = 1 + 2 * i
            out += HeadersFrame(sid, request_block(enc), flags=["END_HEADERS",
                                                                "END_STREAM"]).serialize()
            out += RstStreamFrame(sid, error_code=8).serialize()  # CANCEL
            if len(out) > 16384:
                send()
    elif mode == "continuation":
        out += HeadersFrame(1, request_block(enc)).serialize()  # no END_HEADERS
        for _ in range(count):
            out += ContinuationFrame(1, b"").serialize()
    elif mode == "settings":
        for _ in range(count):
            out += SettingsFrame(0, settings={SettingsFrame.MAX_CONCURRENT_STREAMS: 10}).serialize()
    elif mode == "ping":
        for i in range(count):
            out += PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize()
    elif mode == "empty_data":
        out += HeadersFrame(1, request_block(enc, "/echo"),
                            flags=["END_HEADERS"]).serialize()
        for _ in range(count):
            out += DataFrame(1, b"").serialize()
    elif mode == "window_overflow":
        out += WindowUpdateFrame(0, window_increment=2**31 - 1).serialize()
    elif mode == "ok":
        out += HeadersFrame(1, request_block(enc), flags=["END_HEADERS",
                                                          "END_STREAM"]).serialize()
    else:
        raise SystemExit("unknown mode " + mode)
    send()


def read_result(sock, deadline):
    buf = b""
    saw_headers = False
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            return "CLOSED"
        if not chunk:
            return "RESPONSE" if saw_headers else "CLOSED"
        buf += chunk
        while len(buf) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
            if len(buf) < 9 + length:
                break
            frame.parse_body(memoryview(buf[9:9 + length]))
            buf = buf[9 + length:]
            if isinstance(frame, GoAwayFrame):
                name = ERRORS.get(frame.error_code, str(frame.error_code))
                return "GOAWAY %s %d" % (name, frame.last_stream_id)
            if isinstance(frame, HeadersFrame) and frame.stream_id == 1:
                saw_headers = True
                if "END_STREAM" in frame.flags:
                    return "RESPONSE"
            if isinstance(frame, DataFrame) and "END_STREAM" in frame.flags:
                return "RESPONSE"
    return "TIMEOUT"


def slow_fast(sock, count):
    enc = hpack.Encoder()
    sock.sendall(WindowUpdateFrame(0, window_increment=2**30).serialize() +
                 HeadersFrame(1, request_block(enc, "/bytes/100000000"),
                              flags=["END_HEADERS", "END_STREAM"]).serialize())
    time.sleep(0.3)  # the slow stream's window is shut by now and its upstream paused
    sock.sendall(HeadersFrame(3, request_block(enc, "/bytes/%d" % count),
                              flags=["END_HEADERS", "END_STREAM"]).serialize())
    got = {1: 0, 3: 0}
    buf = b""
    deadline = time.monotonic() + 10
    done = False
    while not done and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
            if len(buf) < 9 + length:
                break
            frame.parse_body(memoryview(buf[9:9 + length]))
            buf = buf[9 + length:]
            if isinstance(frame, DataFrame) and frame.stream_id in got:
                got[frame.stream_id] += len(frame.data)
                if frame.stream_id == 3 and frame.flow_controlled_length:
                    sock.sendall(WindowUpdateFrame(
                        3, window_increment=frame.flow_controlled_length).serialize())
                if frame.stream_id == 3 and "END_STREAM" in frame.flags:
                    done = True
    print("FAST %d SLOW %d" % (got[3], got[1]), flush=True)


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    port, mode, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    wait = float(sys.argv[4]) if len(sys.argv) == 5 else 5.0
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(PREFACE + SettingsFrame(0).serialize())
    if mode == "slow_fast":
        slow_fast(sock, count)
        return
    flood(sock, mode, count)
    print(read_result(sock, time.monotonic() + wait), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
