"""A target that slows down linearly over time, for the run-order test.

Usage: drift_server.py HOST BASE_MS SLOPE_MS_PER_S

Answers GET /multiply?number=N with {"result": 2N} as target-server does
(HTTP/1.1 keep-alive), each answer after BASE_MS + SLOPE_MS_PER_S * (seconds
since the first such request): whatever runs later is slower, which is the
drift a run order must not turn into a difference between benchmarks. Any other path is a 404
(so it is also a third-party target without GET /stats). Listens on port 0
and prints "drift-server: listening on http://HOST:PORT" when ready; stdlib
only (asyncio), stops on SIGTERM.
"""

import asyncio
import json
import signal
import sys
import time


def response(status, body, keep):
    reason = {200: "OK", 404: "Not Found", 400: "Bad Request"}[status]
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n")
    if not keep:
        head += "Connection: close\r\n"
    return (head + "\r\n").encode() + body


async def serve(reader, writer, t0, base, slope):
    """One connection; t0 is a one-element list: the first request's time."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = (lines[0].split(" ") + ["", "", ""])[:3]
            keep = version == "HTTP/1.1" and not any(
                line.lower().replace(" ", "") == "connection:close" for line in lines[1:])
            path, _, query = target.partition("?")
            params = dict(p.partition("=")[::2] for p in query.split("&") if p)
            if method == "GET" and path == "/multiply" and params.get("number", "").lstrip(
                    "-").isdigit():
                now = time.monotonic()
                if t0[0] is None:
                    t0[0] = now
                await asyncio.sleep((base + slope * (now - t0[0])) / 1000.0)
                body = json.dumps({"result": 2 * int(params["number"])}).encode()
                writer.write(response(200, body, keep))
            else:
                writer.write(response(404, b'{"detail":"Not Found"}', keep))
            await writer.drain()
            if not keep:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(host, base, slope):
    t0 = [None]
    server = await asyncio.start_server(lambda r, w: serve(r, w, t0, base, slope), host, 0,
                                        backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"drift-server: listening on http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
