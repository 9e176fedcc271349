#!/ usr / bin / python3
"""A small cleartext HTTP/2 (prior knowledge) server for Remora's upstream HTTP/2 tests.

Runs with /usr/bin/python3 (Debian's python3-h2). Prints "listening PORT" once ready.

Paths:
  /echo            answers 200 with the request body; x-seen-* headers echo what arrived
                   (x-seen-trailer-NAME for request trailers)
  /trailers        answers a body then trailers (x-checksum, x-status)
  /bytes/N         answers N bytes of 'x', honouring flow control
  /slow/MS         answers after MS milliseconds (holds a stream open)
  /hold            reads the request body but never opens the window again (flow control)
  /bare            200 with no other field and no body (one HEADERS with END_STREAM)
  /stats           JSON: connections accepted, most streams seen open at once
  /die             closes the TCP connection without answering
  /die-mid-body    sends the head and part of a body, then closes the connection
  /grpc            a gRPC answer: the request's message back as one length-prefixed frame, then
                   trailers grpc-status: 0, grpc-message: echoed
  /grpc-deny       a gRPC trailers-only answer (one HEADERS with END_STREAM):
                   grpc-status: 7, grpc-message: denied
  /authz           an authorization service: "authorization: Bearer let-me-in" gets 200 with
                   x-user-id: carol, anything else 403 with www-authenticate and a JSON body
  anything else    200 "ok"
Header x-refuse: TOKEN  → the first request with that token gets RST_STREAM REFUSED_STREAM.
Header x-die: TOKEN     → the first request with that token makes the server close the TCP
                          connection without answering (no GOAWAY), as a server restarting does.

Options:
  --max-streams N  SETTINGS_MAX_CONCURRENT_STREAMS
  --goaway-after N on each connection, after the Nth request arrives, GOAWAY with
                   last_stream_id = that request's stream: later streams are never processed
"""

import argparse
import asyncio
import json

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame

STATS = {"connections": 0, "max_open_streams": 0, "requests": 0}
REFUSED = set()
DIED = set()


class Conn(asyncio.Protocol):
    def __init__(self, args):
        self.args = args
        cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.streams = {}  # id -> {"headers": dict, "body": bytearray}
        self.window_waiters = {}
        self.requests = 0
        self.goaway_sent_at = None
        self.open = 0

    def connection_made(self, transport):
        STATS["connections"] += 1
        self.transport = transport
        settings = {}
        if self.args.max_streams >= 0:
            settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = self.args.max_streams
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values=settings)
        self.h2.initiate_connection()
        self.flush()

    def flush(self):
        data = self.h2.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc):
        for fut in self.window_waiters.values():
            if not fut.done():
                fut.cancel()

    def data_received(self, data):
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            self.transport.close()
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                self.on_request(ev)
            elif isinstance(ev, h2.events.DataReceived):
                s = self.streams.get(ev.stream_id)
                if s is not None and s["headers"].get(":path") == "/hold":
                    continue  # never acknowledged: the stream's window stays shut
                if s is not None:
                    s["body"] += ev.data
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.TrailersReceived):
                s = self.streams.get(ev.stream_id)
                if s is not None:
                    s["trailers"] = dict(ev.headers)
            elif isinstance(ev, h2.events.StreamEnded):
                s = self.streams.get(ev.stream_id)
                if s is not None:
                    asyncio.ensure_future(self.respond(ev.stream_id, s))
            elif isinstance(ev, h2.events.StreamReset):
                self.streams.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.WindowUpdated):
                for sid, fut in list(self.window_waiters.items()):
                    if not fut.done():
                        fut.set_result(None)
        self.flush()

    def on_request(self, ev):
        headers = dict(ev.headers)
        self.requests += 1
        STATS["requests"] += 1
        if self.goaway_sent_at is not None and ev.stream_id > self.goaway_sent_at:
            return  # above last_stream_id: never processed, as the GOAWAY said
        token = headers.get("x-die")
        if token and token not in DIED:
            DIED.add(token)
            self.transport.abort()
            return
        token = headers.get("x-refuse")
        if token and token not in REFUSED:
            REFUSED.add(token)
            self.h2.reset_stream(ev.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
            return
        self.streams[ev.stream_id] = {"headers": headers, "body": bytearray()}
        self.open += 1
        STATS["max_open_streams"] = max(STATS["max_open_streams"], self.open)
        if self.args.goaway_after and self.requests == self.args.goaway_after:
#A graceful GOAWAY, written by hand : h2's close_connection() would also stop us
#answering the streams at or below last_stream_id.
            self.goaway_sent_at = ev.stream_id
            self.flush()
            frame = hyperframe.frame.GoAwayFrame(0)
            frame.last_stream_id = ev.stream_id
            frame.error_code = 0
            self.transport.write(frame.serialize())

    async def wait_window(self, sid):
        fut = asyncio.get_event_loop().create_future()
        self.window_waiters[sid] = fut
        try:
            await fut
        finally:
            self.window_waiters.pop(sid, None)

    async def send_body(self, sid, data, end=True):
        while data:
            window = self.h2.local_flow_control_window(sid)
            if window <= 0:
                await self.wait_window(sid)
                continue
            n = min(window, self.h2.max_outbound_frame_size, len(data))
            self.h2.send_data(sid, data[:n])
            data = data[n:]
            self.flush()
            await asyncio.sleep(0)
        if end:
            self.h2.end_stream(sid)
            self.flush()

    async def respond(self, sid, s):
        try:
            await self.respond_inner(sid, s)
        except (h2.exceptions.ProtocolError, asyncio.CancelledError):
            pass
        finally:
            self.open -= 1
            self.streams.pop(sid, None)
            if self.goaway_sent_at is not None and not self.streams:
                self.transport.close()

    async def respond_inner(self, sid, s):
        h = s["headers"]
        path = h.get(":path", "/")
        seen = [("x-seen-" + k.lstrip(":"), v) for k, v in h.items()
                if k in (":authority", ":method", ":path", ":scheme", "te", "connection",
                         "keep-alive", "transfer-encoding", "host", "x-forwarded-for",
                         "x-forwarded-proto", "content-type", "content-length", "x-probe")]
        seen.append(("x-seen-body-bytes", str(len(s["body"]))))
        seen += [("x-seen-trailer-" + k, v) for k, v in s.get("trailers", {}).items()]
        if path == "/echo":
            body = bytes(s["body"])
            self.h2.send_headers(sid, [(":status", "200"), ("content-length", str(len(body)))]
                                 + seen)
            await self.send_body(sid, body)
        elif path == "/trailers":
            self.h2.send_headers(sid, [(":status", "200")] + seen)
            await self.send_body(sid, b"trailer body\n", end=False)
            self.h2.send_headers(sid, [("x-checksum", "abc123"), ("x-status", "done")],
                                 end_stream=True)
            self.flush()
        elif path.startswith("/bytes/"):
            n = int(path.split("/")[2])
            self.h2.send_headers(sid, [(":status", "200"), ("content-length", str(n))])
            chunk = b"x" * 65536
            left = n
            while left > 0:
                part = chunk[:min(left, len(chunk))]
                await self.send_body(sid, part, end=False)
                left -= len(part)
            self.h2.end_stream(sid)
            self.flush()
        elif path.startswith("/slow/"):
            await asyncio.sleep(int(path.split("/")[2]) / 1000.0)
            self.h2.send_headers(sid, [(":status", "200")] + seen)
            await self.send_body(sid, b"slow\n")
        elif path == "/bare":
            self.h2.send_headers(sid, [(":status", "200")], end_stream=True)
            self.flush()
        elif path == "/stats":
            body = json.dumps(STATS).encode()
            self.h2.send_headers(sid, [(":status", "200"), ("content-type", "application/json")])
            await self.send_body(sid, body)
        elif path == "/grpc":
            msg = bytes(s["body"][5:])
            frame = b"\x00" + len(msg).to_bytes(4, "big") + msg
            self.h2.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc")]
                                 + seen)
            await self.send_body(sid, frame, end=False)
            self.h2.send_headers(sid, [("grpc-status", "0"), ("grpc-message", "echoed")],
                                 end_stream=True)
            self.flush()
        elif path == "/grpc-deny":
            self.h2.send_headers(sid, [(":status", "200"), ("content-type", "application/grpc"),
                                       ("grpc-status", "7"), ("grpc-message", "denied")] + seen,
                                 end_stream=True)
            self.flush()
        elif path == "/authz":
            if h.get("authorization") == "Bearer let-me-in":
                self.h2.send_headers(sid, [(":status", "200"), ("x-user-id", "carol")] + seen)
                await self.send_body(sid, b"")
            else:
                body = b'{"error":"forbidden by policy"}'
                self.h2.send_headers(sid, [(":status", "403"),
                                           ("www-authenticate", 'Custom realm="authz"'),
                                           ("content-type", "application/json"),
                                           ("content-length", str(len(body)))])
                await self.send_body(sid, body)
        elif path == "/die":
            self.transport.abort()
        elif path == "/die-mid-body":
            self.h2.send_headers(sid, [(":status", "200"), ("content-length", "100000")])
            await self.send_body(sid, b"y" * 1000, end=False)
            await asyncio.sleep(0.05)
            self.transport.abort()
        else:
            self.h2.send_headers(sid, [(":status", "200")] + seen)
            await self.send_body(sid, b"ok\n")


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-streams", type=int, default=-1)
    p.add_argument("--goaway-after", type=int, default=0)
    args = p.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(args), "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
