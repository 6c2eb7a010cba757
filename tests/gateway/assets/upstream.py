"""A bring-your-own-container server for tests and benchmarks: SageMaker's contract on loopback.

`python upstream.py PORT` serves `GET /ping` and `POST /invocations` (CSV rows -> the sum of each row,
one per line); a row starting with `fail` answers 500, `bad` answers 400. Plain asyncio, no framework.
"""

import asyncio
import sys


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, out = 200, b""
            if path == "/invocations" and method == "POST":
                text = body.decode()
                if text.startswith("fail"):
                    status, out = 500, b"the model crashed"
                elif text.startswith("bad"):
                    status, out = 400, b"cannot parse the payload"
                else:
                    out = "".join(f"{sum(float(v) for v in row.split(','))!r}\n"
                                  for row in text.splitlines() if row).encode()
            elif path != "/ping":
                status = 404
            reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}[status]
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/csv\r\nContent-Length: {len(out)}\r\n"
                         "\r\n".encode() + out)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
