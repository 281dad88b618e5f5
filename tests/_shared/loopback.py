"""A local HTTP server on 127.0.0.1 (port 0) answering scripted replies, a transport sending every
URL to it, and a fake clock: the collateral source tests never reach another host or wait."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cocoverify.collateral.http import Response, UrllibTransport

__all__ = ["FakeClock", "Loopback", "Reply", "Server"]


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: int | None = None  # a Content-Length that lies (truncated body)


class Server:
    """Routes requests (:meth:`match`) to a list of replies, used in order; the last one
    repeats. Unknown paths: 404. Records each request target."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer.lock:
                    outer.requests.append(self.path)
                    queue = outer.match(self.path)
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(reply.length or len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def match(self, target: str) -> list[Reply] | None:
        """The route for ``target``: same path, and the route's query parameters (if
        any) all present in the request."""
        path, _, query = target.partition("?")
        asked = set(urllib.parse.parse_qsl(query))
        for key, queue in self.routes.items():
            kpath, _, kquery = key.partition("?")
            if kpath == path and set(urllib.parse.parse_qsl(kquery)) <= asked:
                return queue
        return None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, target: str, *replies: Reply) -> None:
        with self.lock:
            self.routes[target] = list(replies)

    def paths(self) -> list[str]:
        with self.lock:
            return [r.split("?")[0] for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Loopback:
    """A transport sending every URL to the local server (scheme/host replaced), keeping
    the URLs asked for. Tests never reach another host."""

    def __init__(self, server: Server, **kwargs: Any) -> None:
        self.server = server
        self.inner = UrllibTransport(proxies={}, **kwargs)
        self.asked: list[str] = []

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
        self.asked.append(url)
        p = urllib.parse.urlsplit(url)
        local = urllib.parse.urlunsplit(
            ("http", f"127.0.0.1:{self.server.port}", p.path, p.query, "")
        )
        return self.inner.get(local, headers, timeout)


class FakeClock:
    """Injectable epoch clock and sleep: sleeping advances the clock."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
