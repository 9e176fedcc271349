#!/usr/bin/python3
"""gRPC end to end through Remora with real grpcio peers (no protoc: generic handlers on raw bytes).

Run with /usr/bin/python3 (Debian's python3-grpcio). Two modes:

  grpc_e2e.py serve --port P     a gRPC server on 127.0.0.1:P until SIGTERM:
      pkg.Echo/Unary           unary echo
      pkg.Echo/ServerStream    three replies to one request
      pkg.Echo/ClientStream    one reply joining every request
      pkg.Echo/Bidi            one reply per request
      pkg.Echo/Slow            unary echo after 2 s
      pkg.Secure/Get, pkg.Limited/Get   unary echo (auth and rate limit act in front)
      pkg.Fragile/Call         always UNAVAILABLE ("fragile down")

  grpc_e2e.py client --target H:P   runs every case against Remora at H:P (h2c); exit 0 when all
                                   pass, 1 otherwise, one line per case.

The Remora config the client expects (test/integration/grpc_e2e_test.cc writes it): auth requiring
an API key on /pkg.Secure/, rate_limit of 1 per minute on /pkg.Limited/, router sending /pkg.Fragile/
to cluster "fragile" and other /pkg. paths to "app" (both the server above, protocol http2), and a
circuit_breaker on "fragile" opening after 2 consecutive failures.
"""

import argparse
import signal
import sys
import threading
import time
from concurrent import futures

import grpc


def identity(b):
    return b


def unary(request, context):
    return request


def server_stream(request, context):
    for i in range(3):
        yield request + str(i).encode()


def client_stream(request_iterator, context):
    return b"|".join(request_iterator)


def bidi(request_iterator, context):
    for r in request_iterator:
        yield b"re:" + r


def slow(request, context):
    time.sleep(2)
    return request


def fragile(request, context):
    context.abort(grpc.StatusCode.UNAVAILABLE, "fragile down")


def handlers():
    def u(fn):
        return grpc.unary_unary_rpc_method_handler(fn, identity, identity)

    echo = grpc.method_handlers_generic_handler("pkg.Echo", {
        "Unary": u(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, identity, identity),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, identity, identity),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi, identity, identity),
        "Slow": u(slow),
    })
    return [
        echo,
        grpc.method_handlers_generic_handler("pkg.Secure", {"Get": u(unary)}),
        grpc.method_handlers_generic_handler("pkg.Limited", {"Get": u(unary)}),
        grpc.method_handlers_generic_handler("pkg.Fragile", {"Call": u(fragile)}),
    ]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def serve(port, tls_dir=None):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=handlers())
    if tls_dir:
        # mTLS: the server certificate from scripts/dev-certs.sh, clients must present one.
        creds = grpc.ssl_server_credentials(
            [(read(f"{tls_dir}/server.key"), read(f"{tls_dir}/server.crt"))],
            root_certificates=read(f"{tls_dir}/ca.crt"), require_client_auth=True)
        bound = server.add_secure_port(f"127.0.0.1:{port}", creds)
    else:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    if bound == 0:
        print(f"cannot bind 127.0.0.1:{port}", file=sys.stderr)
        return 2
    server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("serving", flush=True)
    done.wait()
    server.stop(0)
    return 0


def code_of(fn):
    try:
        fn()
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details() or ""


def run_client(target, tls_dir=None, calls_only=False):
    if tls_dir:
        creds = grpc.ssl_channel_credentials(
            root_certificates=read(f"{tls_dir}/ca.crt"),
            private_key=read(f"{tls_dir}/client.key"),
            certificate_chain=read(f"{tls_dir}/client.crt"))
        channel = grpc.secure_channel(target, creds,
                                      options=(("grpc.ssl_target_name_override", "localhost"),))
    else:
        channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=5)

    def unary_call(path, data=b"hi", **kw):
        return channel.unary_unary(path, identity, identity)(data, timeout=kw.pop("timeout", 5), **kw)

    failures = []

    def check(name, cond, detail=""):
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"), flush=True)
        if not cond:
            failures.append(name)

    r = unary_call("/pkg.Echo/Unary", b"hello")
    check("unary", r == b"hello", r)

    rs = list(channel.unary_stream("/pkg.Echo/ServerStream", identity, identity)(b"s", timeout=5))
    check("server streaming", rs == [b"s0", b"s1", b"s2"], rs)

    r = channel.stream_unary("/pkg.Echo/ClientStream", identity, identity)(
        iter([b"a", b"b", b"c"]), timeout=5)
    check("client streaming", r == b"a|b|c", r)

    rs = list(channel.stream_stream("/pkg.Echo/Bidi", identity, identity)(
        iter([b"x", b"y"]), timeout=5))
    check("bidi streaming", rs == [b"re:x", b"re:y"], rs)
    if calls_only:
        channel.close()
        return 1 if failures else 0

    code, details = code_of(lambda: unary_call("/nope.Svc/Method"))
    check("no route is UNIMPLEMENTED", code == grpc.StatusCode.UNIMPLEMENTED, (code, details))

    code, details = code_of(lambda: unary_call("/pkg.Secure/Get"))
    check("no API key is UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED,
          (code, details))

    code, _ = code_of(lambda: unary_call("/pkg.Limited/Get"))
    check("first limited call passes", code == grpc.StatusCode.OK, code)
    code, details = code_of(lambda: unary_call("/pkg.Limited/Get"))
    check("rate limit is RESOURCE_EXHAUSTED", code == grpc.StatusCode.RESOURCE_EXHAUSTED,
          (code, details))

    start = time.monotonic()
    code, details = code_of(lambda: unary_call(
        "/pkg.Echo/Slow", metadata=(("x-deadline", "proxy"),), timeout=0.4))
    took = time.monotonic() - start
    check("deadline is DEADLINE_EXCEEDED", code == grpc.StatusCode.DEADLINE_EXCEEDED and took < 1.5,
          (code, details, took))

    for i in range(2):
        code, details = code_of(lambda: unary_call("/pkg.Fragile/Call"))
        check(f"fragile call {i} is the server's UNAVAILABLE",
              code == grpc.StatusCode.UNAVAILABLE and details == "fragile down", (code, details))
    code, details = code_of(lambda: unary_call("/pkg.Fragile/Call"))
    check("open breaker is UNAVAILABLE from the proxy",
          code == grpc.StatusCode.UNAVAILABLE and details == "circuit open", (code, details))

    channel.close()
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--tls-dir", help="serve mTLS with DIR/server.crt, server.key, ca.crt")
    c = sub.add_parser("client")
    c.add_argument("--target", required=True)
    c.add_argument("--tls-dir", help="call over mTLS with DIR/client.crt, client.key, ca.crt")
    c.add_argument("--calls-only", action="store_true", help="the four call types only")
    a = p.parse_args()
    if a.mode == "serve":
        return serve(a.port, a.tls_dir)
    return run_client(a.target, a.tls_dir, a.calls_only)


if __name__ == "__main__":
    sys.exit(main())
