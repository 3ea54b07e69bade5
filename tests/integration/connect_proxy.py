#!/usr/bin/env python3
# Minimal HTTP proxy for the transport integration tests: CONNECT tunnels and absolute-form
# requests, each logged as one line to the log file. Usage: connect_proxy.py PORT LOGFILE [AUTH]
# (AUTH: the expected Proxy-Authorization value; other requests get 407).
import asyncio
import sys

PORT, LOG = int(sys.argv[1]), sys.argv[2]
AUTH = sys.argv[3] if len(sys.argv) > 3 else None


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except Exception:
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(reader, writer):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    if AUTH is not None and headers.get("proxy-authorization") != AUTH:
        log(f"DENIED {method} {target}")
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    if method == "CONNECT":
        host, port = target.rsplit(":", 1)
        up_r, up_w = await asyncio.open_connection(host.strip("[]"), int(port))
        log(f"CONNECT {target}")
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        return
    # absolute-form: http://host:port/path
    rest = target.split("://", 1)[1]
    authority, _, path = rest.partition("/")
    host, _, port = authority.partition(":")
    up_r, up_w = await asyncio.open_connection(host, int(port or 80))
    log(f"{method} {target}")
    first = f"{method} /{path} HTTP/1.1\r\n".encode()
    kept = [l for l in lines[1:] if l and not l.lower().startswith("proxy-")]
    up_w.write(first + ("\r\n".join(kept) + "\r\n\r\n").encode())
    await up_w.drain()
    await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    log("READY")
    async with server:
        await server.serve_forever()


asyncio.run(main())
