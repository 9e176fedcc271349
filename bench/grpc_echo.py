#!/usr/bin/python3
"""The gRPC peer of bench/grpc.sh: a grpcio echo server and a one-call checker (no protoc:
generic handlers on raw bytes). Run with /usr/bin/python3 (Debian's python3-grpcio).

  grpc_echo.py serve --port P [--threads N] [--aio]
      /bench.Echo/Unary echoes the request bytes until SIGTERM; then prints
      "calls N" (handler invocations), so the script can check that every call h2load
      counted reached the handler.
  grpc_echo.py check --target H:P [--token T]
      one unary call with a grpcio client; with --token, the call carries
      "authorization: Bearer T" and a second call without it must fail UNAUTHENTICATED
      (the auth filter is in the path). Exit 0 when all holds.
"""

import argparse
import asyncio
import signal
import sys
import threading
from concurrent import futures

import grpc

SERVICE = "bench.Echo"
METHOD = "Unary"
CALLS = [0]  # handler invocations
CALLS_LOCK = threading.Lock()  # += is not atomic across the pool's threads


def identity(b):
    return b


def unary(request, context):
    with CALLS_LOCK:
        CALLS[0] += 1
    return request


async def unary_aio(request, context):
    CALLS[0] += 1  # one event loop thread
    return request


def handler(fn):
    return grpc.method_handlers_generic_handler(
        SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(fn, identity, identity)})


def serve(port, threads):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads),
                         handlers=[handler(unary)])
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        print(f"cannot bind 127.0.0.1:{port}", file=sys.stderr)
        return 2
    server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("serving", flush=True)
    # A bounded wait, so the main thread runs the handler even when the signal lands on one of
    # grpc's threads.
    while not done.wait(0.2):
        pass
    server.stop(0)
    print(f"calls {CALLS[0]}", flush=True)
    return 0


async def serve_aio(port):
    server = grpc.aio.server(handlers=[handler(unary_aio)])
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        print(f"cannot bind 127.0.0.1:{port}", file=sys.stderr)
        return 2
    await server.start()
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)
    print("serving", flush=True)
    await done.wait()
    await server.stop(0)
    print(f"calls {CALLS[0]}", flush=True)
    return 0


def check(target, token):
    path = f"/{SERVICE}/{METHOD}"
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=5)
        call = channel.unary_unary(path, identity, identity)
        metadata = (("authorization", f"Bearer {token}"),) if token else None
        payload = b"remora-bench-check"
        reply = call(payload, timeout=5, metadata=metadata)
        if reply != payload:
            print(f"FAIL echo: sent {payload!r}, got {reply!r}")
            return 1
        print("ok   unary echo, grpc-status 0")
        if token:
            try:
                call(payload, timeout=5)
                print("FAIL a call without the token passed: auth is not in the path")
                return 1
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                    print(f"FAIL a call without the token got {e.code()}, not UNAUTHENTICATED")
                    return 1
            print("ok   a call without the token is UNAUTHENTICATED")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--threads", type=int, default=128)
    s.add_argument("--aio", action="store_true", help="grpc.aio server (asyncio, one thread)")
    c = sub.add_parser("check")
    c.add_argument("--target", required=True)
    c.add_argument("--token", default="")
    a = p.parse_args()
    if a.mode == "check":
        return check(a.target, a.token)
    if a.aio:
        return asyncio.run(serve_aio(a.port))
    return serve(a.port, a.threads)


if __name__ == "__main__":
    sys.exit(main())
