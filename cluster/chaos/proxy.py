#!/usr/bin/env python3
"""Fault-injecting TCP proxy for the peer links of a chaos cluster (cluster/chaos/run.sh).

One listener per directed link i>j on 127.0.0.3i:750j forwards to node j's peer port
127.0.0.3j:7401; node i's config names that listener as j's peer address, so every byte node i
sends to node j passes here (each node dials its own connection per peer, so a link carries one
direction of Raft traffic). Every 100 ms the proxy reads RUN/blocked ("i>j" per line): a blocked
link has its connections closed and new ones closed at once, which the nodes see as a dead peer.

  proxy.py RUN NODES      e.g. proxy.py cluster/chaos/run/20261130-0200 "1 2 3"
Stops when its parent run.sh kills it (by PID) or when RUN/blocked's directory disappears.
"""
import asyncio
import os
import sys

RUN, NODES = sys.argv[1], sys.argv[2].split()
blocked = set()
conns = {}  # link -> set of writers


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def handler(link, target):
    async def handle(reader, writer):
        if link in blocked:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*target), 1)
        except (OSError, asyncio.TimeoutError):
            writer.close()
            return
        mine = conns.setdefault(link, set())
        mine.update((writer, up_writer))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        mine.discard(writer)
        mine.discard(up_writer)
    return handle


async def watch():
    path = os.path.join(RUN, "blocked")
    while os.path.isdir(RUN):
        try:
            with open(path) as f:
                now = {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            now = set()
        for link in now - blocked:
            for w in list(conns.get(link, ())):
                w.close()
        blocked.clear()
        blocked.update(now)
        await asyncio.sleep(0.1)


async def main():
    servers = []
    for i in NODES:
        for j in NODES:
            if i != j:
                link = f"{i}>{j}"
                servers.append(await asyncio.start_server(handler(link, (f"127.0.0.3{j}", 7401)), f"127.0.0.3{i}", 7500 + int(j)))
    print("proxy ready", flush=True)
    await watch()


asyncio.run(main())
