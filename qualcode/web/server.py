"""Serving the workspace: a uvicorn server on a socket bound before it starts (so port 0
gives a free port and the printed URL is right), in the foreground (``qualcode serve``) or
in a thread (tests, benchmarks)."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from qualcode.errors import ConfigError
from qualcode.web.app import Workspace, create_app

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Served:
    """A bound workspace: its URL with the token, the socket, the uvicorn server."""

    url: str
    base: str
    workspace: Workspace
    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C)."""
        self.server.run(sockets=[self.sock])

    def start(self) -> Served:
        """Serve in a background thread; returns when the server accepts requests."""
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the workspace server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.sock.close()


def bind(project, host: str = "127.0.0.1", port: int = 0, coder: str | None = None, lang: str = "zh",
         token: str | None = None) -> Served:
    """Bind ``host:port`` (0 = any free port) and prepare the workspace over ``project``."""
    app, ws = create_app(project, coder=coder, token=token, lang=lang)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})",
                          hint="choose another port with --port, or stop the program using it") from None
    sock.listen(64)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{bound}"
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return Served(f"{base}/?token={ws.token}", base, ws, uvicorn.Server(config), sock)
