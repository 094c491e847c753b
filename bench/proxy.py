"""A delaying TCP proxy: WAN latency in front of each lab machine's sshd.

This kernel has no netem, so latency is added in user space: every chunk of
bytes is held for the one-way delay before it is passed on, in each
direction, in order and without limiting throughput (chunks in flight
overlap, as on a long link). Opening a connection costs one round trip too,
as a TCP handshake would. A round trip through the proxy thus takes
2 x `one_way` more than on loopback.

Bounded in every way: listeners on 127.0.0.1 only, upstreams on loopback or
the bench's own network only, a cap on connections and on bytes queued per
direction, and a lifetime after which it stops by itself (it also stops when
its standard input closes, i.e. when bench/run goes away).

    python -m bench.proxy --one-way-ms 15 --route 42200=198.18.1.11:22 ... [--max-seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import sys
from dataclasses import dataclass

from bench.fleet import NETWORK

CHUNK = 64 * 1024
#: chunks queued per direction before the reader waits (back-pressure)
QUEUE_CHUNKS = 64
MAX_CONNECTIONS = 256
DEFAULT_LIFETIME = 4 * 3600.0
ALLOWED_UPSTREAMS = (ipaddress.ip_network("127.0.0.0/8"), NETWORK)


class ProxyError(ValueError):
    pass


@dataclass(frozen=True)
class Route:
    listen_port: int
    host: str
    port: int


def parse_route(text: str) -> Route:
    """'LPORT=HOST:PORT', the upstream on loopback or the bench network only."""
    try:
        listen, _, upstream = text.partition("=")
        host, _, port = upstream.rpartition(":")
        route = Route(int(listen), host, int(port))
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ProxyError(f"bad route {text!r}: expected LPORT=HOST:PORT") from None
    if not any(address in net for net in ALLOWED_UPSTREAMS):
        raise ProxyError(f"upstream {host} is neither loopback nor on the bench network {NETWORK}")
    if not (0 < route.listen_port < 65536 and 0 < route.port < 65536):
        raise ProxyError(f"bad port in route {text!r}")
    return route


class DelayLine:
    """When each chunk may leave: `delay` after it arrived, never before the previous one."""

    def __init__(self, delay: float):
        self.delay = delay
        self.last = float("-inf")

    def due(self, arrived: float) -> float:
        self.last = max(arrived + self.delay, self.last)
        return self.last


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction, each chunk held for `delay`; EOF is passed on (half-close)."""
    loop = asyncio.get_running_loop()
    line = DelayLine(delay)
    queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_CHUNKS)

    async def receive() -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                await queue.put((line.due(loop.time()), data))
                if not data:
                    return
        except (ConnectionError, OSError):
            await queue.put((line.due(loop.time()), b""))

    async def send() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    receiving = asyncio.ensure_future(receive())
    try:
        await send()
    except (ConnectionError, OSError):
        pass
    finally:
        receiving.cancel()


class DelayProxy:
    def __init__(self, routes: list[Route], one_way: float, max_connections: int = MAX_CONNECTIONS):
        self.routes = routes
        self.one_way = one_way
        self.slots = asyncio.Semaphore(max_connections)
        self.servers: list[asyncio.AbstractServer] = []

    async def start(self) -> None:
        for route in self.routes:
            server = await asyncio.start_server(
                lambda r, w, route=route: self.handle(r, w, route), "127.0.0.1", route.listen_port, reuse_address=True)
            self.servers.append(server)

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()

    async def handle(self, client_reader, client_writer, route: Route) -> None:
        try:
            await self.relay(client_reader, client_writer, route)
        except asyncio.CancelledError:  # the proxy stops: drop the connection quietly
            client_writer.close()

    async def relay(self, client_reader, client_writer, route: Route) -> None:
        if self.slots.locked():
            client_writer.close()
            return
        async with self.slots:
            # the TCP handshake a real link would cost: one round trip
            await asyncio.sleep(2 * self.one_way)
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(route.host, route.port), 10)
            except (OSError, asyncio.TimeoutError):
                client_writer.close()
                return
            try:
                await asyncio.gather(
                    _pump(client_reader, up_writer, self.one_way),
                    _pump(up_reader, client_writer, self.one_way),
                )
            finally:
                for w in (up_writer, client_writer):
                    w.close()


async def serve(routes: list[Route], one_way: float, lifetime: float, stop_on_stdin_eof: bool = True) -> None:
    proxy = DelayProxy(routes, one_way)
    await proxy.start()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.call_later(lifetime, lambda: stop.done() or stop.set_result(None))
    if stop_on_stdin_eof:
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

        async def watch() -> None:
            await reader.read()
            if not stop.done():
                stop.set_result(None)

        asyncio.ensure_future(watch())
    await stop
    await proxy.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--one-way-ms", type=float, required=True)
    parser.add_argument("--route", action="append", required=True, help="LPORT=HOST:PORT")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_LIFETIME)
    args = parser.parse_args(argv)
    try:
        routes = [parse_route(r) for r in args.route]
    except ProxyError as exc:
        print(f"bench.proxy: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(routes, args.one_way_ms / 1000.0, args.max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
