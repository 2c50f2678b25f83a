"""Measures behind serve's limits (README "Limits"): run ``python bench/limits.py``.

1. requests in flight vs latency: C keep-alive clients on one process, with and without the
   bound of ``--max-concurrency`` (served, 503 share, p50/p99 of the served);
2. uvicorn's ``limit_concurrency`` vs ours with 200 slow clients holding connections;
3. memory a slow connection costs (RSS of the server before and after 1000 of them).
Servers run as ``python -m mockserver`` on 127.0.0.1; the load generator is raw asyncio.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUEST = b"GET /v1/viewer/studies?limit=20 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"


def start(*options: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", "0", "--log-level", "warning", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    port = int(re.search(r":(\d+)\s*$", line).group(1))  # type: ignore[union-attr]
    return process, port


async def client(port: int, until: float, latencies: list[float], statuses: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < until:
        began = time.perf_counter()
        writer.write(REQUEST)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        status = int(head.split(b" ", 2)[1])
        statuses.append(status)
        if status == 200:
            latencies.append(time.perf_counter() - began)
        if b"connection: close" in head.lower():
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


async def load(port: int, clients: int, seconds: float) -> str:
    latencies: list[float] = []
    statuses: list[int] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(*(client(port, until, latencies, statuses) for _ in range(clients)))
    served = len(latencies)
    refused = sum(1 for s in statuses if s == 503)
    q = statistics.quantiles(latencies, n=100) if served > 1 else [0.0] * 99
    return (
        f"clients {clients:5d}: {served / seconds:7.0f} served/s, "
        f"503 {refused / max(1, len(statuses)):6.1%}, "
        f"p50 {q[49] * 1000:7.1f} ms, p99 {q[98] * 1000:7.1f} ms"
    )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slow(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        sockets.append(sock)
    return sockets


def main() -> None:
    for options, label in [
        ((), "bound 256 (default)"),
        (("--max-concurrency", "100000"), "no bound"),
    ]:
        process, port = start(*options)
        try:
            print(f"-- 1. one process, {label}")
            for clients in (16, 64, 256, 1024):
                print("  ", asyncio.run(load(port, clients, 4.0)))
        finally:
            process.terminate()
            process.wait()
    print("-- 2. 200 slow clients held open, then 4 s of 16 normal clients")
    for options, label in [((), "our bound (256 in flight)")]:
        process, port = start("--header-timeout", "60", *options)
        try:
            held = slow(port, 200)
            print(f"   {label}:", asyncio.run(load(port, 16, 4.0)))
            for sock in held:
                sock.close()
        finally:
            process.terminate()
            process.wait()
    import threading

    import uvicorn

    from mockserver import Settings, create_app
    from mockserver.cli import bind
    from mockserver.http.protocol import ServeConfig, protocol_for

    sock = bind("127.0.0.1", 0)
    config = ServeConfig(
        create_app(Settings()),
        http=protocol_for("auto"),
        log_level="critical",
        lifespan="off",
        limit_concurrency=100,
        header_timeout_s=60,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = sock.getsockname()[1]
    held = slow(port, 200)
    print(
        "   uvicorn limit_concurrency=100 (in a thread of this process):",
        asyncio.run(load(port, 16, 2.0)),
    )
    for s in held:
        s.close()
    server.should_exit = True
    thread.join(10)
    print("-- 3. memory of slow connections")
    process, port = start("--header-timeout", "60")
    try:
        before = rss_kib(process.pid)
        held = slow(port, 1000)
        time.sleep(1)
        after = rss_kib(process.pid)
        print(
            f"   RSS {before} KiB -> {after} KiB with 1000 slow connections: "
            f"{(after - before) / 1000:.1f} KiB each; open files limit {os.sysconf('SC_OPEN_MAX')}"
        )
        for s in held:
            s.close()
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
