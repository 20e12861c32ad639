"""The built-in server: TF Serving's REST API on Hypercorn (an ASGI server with a listen backlog
and read timeouts) and its gRPC API on grpc.aio, in one event loop, over one model registry."""
import asyncio
import dataclasses
import socket
import threading

import h11
from hypercorn.asyncio import serve
from hypercorn.config import Config
from hypercorn.protocol import h11 as hypercorn_h11

from tfgad.serving import grpc_service, http_app, rest
from tfgad.serving.batching import Batcher, BatchingOptions
from tfgad.serving.records import RecordOptions
from tfgad.serving.registry import ModelRegistry
from tfgad.serving.service import Service


@dataclasses.dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8501  # REST; 0 picks a free port
    grpc_port: int = 8500  # gRPC; 0 picks a free port, -1 turns gRPC off
    max_body_bytes: int = 32 << 20
    backlog: int = 1024  # pending connections the kernel queues
    read_timeout: float = 30.0  # seconds a client may stall while sending headers or body
    keep_alive_timeout: float = 10.0
    enable_batching: bool = True
    batching: BatchingOptions = dataclasses.field(default_factory=BatchingOptions)
    poll_seconds: float = 1.0  # how often the model folder is checked for versions
    records: RecordOptions = dataclasses.field(default_factory=RecordOptions)
    drain_seconds: float = 10.0  # at stop: how long accepted requests may take to be answered


async def _json_protocol_error(self, status_code):
    """Hypercorn answers requests that are not valid HTTP (a Content-Length that is not a
    number, say) with an empty body; tfgad's API promises {"error": ...} for every failure.
    Hypercorn is pinned (0.18.0), since this replaces its H11Protocol._send_error_response."""
    body = rest.encode({"error": f"malformed HTTP request ({status_code}): check the request "
                                 "line and headers (e.g. Content-Length)"})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close"), *self.config.response_headers("h11")]
    await self._send_h11_event(h11.Response(status_code=status_code, headers=headers))
    await self._send_h11_event(h11.Data(data=body))
    await self._send_h11_event(h11.EndOfMessage())


hypercorn_h11.H11Protocol._send_error_response = _json_protocol_error  # type: ignore[method-assign]


def _listening_socket(host, port, backlog):
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class ModelServer:
    """Serves one model's versions. start() returns once both ports answer; stop() ends it."""

    def __init__(self, model_name: str, model_base_path: str, options: ServerOptions | None = None):
        self.options = options or ServerOptions()
        self.registry = ModelRegistry(model_name, model_base_path, self.options.poll_seconds)
        self.service = Service(self.registry, Batcher(self.options.batching)
                               if self.options.enable_batching else None, self.options.records)
        self.port = self.grpc_port = None
        self._loop = self._stop_event = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure = None

    def start(self) -> "ModelServer":
        """Loads the model (raises registry.NoLoadableVersion), then serves in a thread."""
        self.registry.start()
        o = self.options
        sock = _listening_socket(o.host, o.port, o.backlog)
        self.port = sock.getsockname()[1]
        # Hypercorn takes the descriptor over and closes it; a Python socket object still
        # owning it would close it again when collected, maybe after the number was reused
        # (a TensorBoard event file of a later training, say).
        self._fd = sock.detach()
        self._thread = threading.Thread(target=self._run, daemon=True, name="model-server")
        self._thread.start()
        self._ready.wait(60)
        if self._failure:
            raise self._failure
        return self

    def _run(self):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception as e:  # surfaced to start()
            self._failure = e
            self._ready.set()

    async def _serve(self):
        o = self.options
        self._stop_event = asyncio.Event()
        config = Config()
        config.bind = [f"fd://{self._fd}"]
        config.backlog = o.backlog
        config.read_timeout = o.read_timeout
        # Hypercorn's idle timer runs until a request's headers are complete, so this bounds a
        # client that stalls mid-headers too (the app bounds a stalled body: 408).
        config.keep_alive_timeout = min(o.keep_alive_timeout, o.read_timeout)
        config.accesslog = None
        config.errorlog = None
        app = http_app.make_app(self.service, o.max_body_bytes, o.read_timeout)
        loop = asyncio.get_running_loop()  # a vanished version's queues and records go with it
        self.registry.on_unload = lambda v: loop.call_soon_threadsafe(self.service.forget, v)
        grpc_server = None
        if o.grpc_port >= 0:
            grpc_server, self.grpc_port = grpc_service.make_server(self.service, o.host, o.grpc_port,
                                                                   o.max_body_bytes)
            await grpc_server.start()
        # At stop, Hypercorn closes the listener and waits up to graceful_timeout for the
        # requests it accepted; gRPC does the same; the batcher runs until both are done.
        config.graceful_timeout = o.drain_seconds
        rest_task = asyncio.ensure_future(serve(app, config, shutdown_trigger=self._stop_event.wait))
        await asyncio.sleep(0.2)  # let Hypercorn take the socket
        self._ready.set()
        await self._stop_event.wait()
        stopping = [rest_task]
        if grpc_server is not None:
            stopping.append(grpc_server.stop(grace=o.drain_seconds))
        await asyncio.gather(*stopping)
        if self.service.batcher is not None:
            await self.service.batcher.close()

    def stop(self) -> None:
        """Stops accepting, answers what was accepted (within drain_seconds), then returns."""
        self.registry.stop()
        if self._loop is not None and self._stop_event is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        if self._thread is not None:
            self._thread.join(self.options.drain_seconds + 10)

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the server ends or timeout seconds pass; True once it has ended."""
        if self._thread is None:
            raise RuntimeError("wait() before start()")
        self._thread.join(timeout)
        return not self._thread.is_alive()
