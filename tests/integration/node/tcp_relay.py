"""A TCP relay process: `python tcp_relay.py LISTEN_PORT TARGET_PORT` passes every connection
on 127.0.0.1:LISTEN_PORT through to 127.0.0.1:TARGET_PORT. Killing it cuts the network path
between a client and a server without touching either (a chain node that went away, as its
client sees it); starting it again on the same port restores the path."""

from __future__ import annotations

import asyncio
import contextlib
import sys

HOST = "127.0.0.1"


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def relay(target: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
    try:
        server_r, server_w = await asyncio.open_connection(HOST, target)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))


async def main(listen: int, target: int) -> None:
    server = await asyncio.start_server(lambda r, w: relay(target, r, w), HOST, listen)
    print("relaying", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C (SIGINT) ends it quietly
        asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
