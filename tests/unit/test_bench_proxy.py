"""The latency proxy: when chunks may leave, which routes it accepts, and a loopback relay."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.proxy import DelayLine, DelayProxy, ProxyError, Route, parse_route


def test_each_chunk_leaves_one_delay_after_it_arrived():
    line = DelayLine(0.015)
    assert line.due(10.0) == pytest.approx(10.015)
    assert line.due(10.5) == pytest.approx(10.515)


def test_chunks_never_overtake_each_other():
    line = DelayLine(0.015)
    first = line.due(10.0)
    # a clock that steps back (or equal arrivals) must not reorder
    assert line.due(9.99) >= first


def test_routes_go_to_loopback_or_the_bench_network_only():
    assert parse_route("42200=198.18.1.11:22") == Route(42200, "198.18.1.11", 22)
    assert parse_route("42201=127.0.0.1:2222") == Route(42201, "127.0.0.1", 2222)
    for bad in ("42200=198.18.0.11:22", "42200=10.0.0.1:22", "42200=192.168.1.1:22", "x=1", "42200=example.com:22", "0=127.0.0.1:22"):
        with pytest.raises(ProxyError):
            parse_route(bad)


def test_bytes_cross_the_proxy_intact_in_order_and_late():
    async def scenario():
        async def echo(reader, writer):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()

        upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
        up_port = upstream.sockets[0].getsockname()[1]
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        listen_port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        proxy = DelayProxy([Route(listen_port, "127.0.0.1", up_port)], one_way=0.05)
        await proxy.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", listen_port)
            payload = bytes(range(256)) * 1000
            started = time.monotonic()
            writer.write(payload)
            await writer.drain()
            writer.write_eof()
            echoed = await asyncio.wait_for(reader.read(), 10)
            elapsed = time.monotonic() - started
            writer.close()
            return echoed == payload, elapsed
        finally:
            await proxy.close()
            upstream.close()

    intact, elapsed = asyncio.run(scenario())
    assert intact
    # the handshake round trip plus one delay each way, at the least
    assert elapsed >= 0.2
