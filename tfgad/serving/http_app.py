"""TF Serving's REST API as an ASGI app (Starlette): routes, body limits and JSON errors."""
import asyncio
import re

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Route

from tfgad.serving import records, rest
from tfgad.serving.batching import QueueFull, VersionUnloaded
from tfgad.serving.registry import ModelNotFound

_ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d{1,18}))?"
                    r"(?P<action>:predict|/metadata)?$")
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def _json(status, body, headers=None):
    return Response(rest.encode(body), status, headers, media_type="application/json")


def _error(status, message, headers=None):
    return _json(status, {"error": message}, headers)


async def _read_body(request, limit, timeout):
    """The body, refused before reading when Content-Length says it is too big, and counted
    while streaming when there is none (chunked)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit() or len(declared) > 18:
            raise rest.BadRequest(f"Content-Length {declared!r} is not a byte count")
        if int(declared) > limit:
            raise _TooLarge(int(declared))

    async def stream():
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge(size)
            chunks.append(chunk)
        return b"".join(chunks)
    return await asyncio.wait_for(stream(), timeout)


class _TooLarge(Exception):
    def __init__(self, size):
        super().__init__(size)
        self.size = size


async def _predict(service, request, name: str, version: int | None, max_body_bytes: int,
                   body_timeout: float):
    body = rest.decode(await _read_body(request, max_body_bytes, body_timeout))
    record = records.record_id(body.get(records.RECORD_FIELD))
    route = service.route(name, version, body.get("signature_name"), rest.named_inputs(body))
    plan = route[3]
    inputs, style = rest.parse(body, plan.function if plan else route[2])
    outputs = await service.answer(route, inputs, record)
    return _json(200, rest.respond(outputs, style))


def _refusal(error: Exception, max_body_bytes: int, body_timeout: float):
    """The HTTP answer to a request that failed in a way the client can act on, or None."""
    if isinstance(error, ModelNotFound):
        return _error(404, str(error))
    if isinstance(error, rest.BadRequest):
        return _error(400, str(error))
    if isinstance(error, _TooLarge):
        return _error(413, f"request body of {error.size} bytes exceeds the limit of "
                           f"{max_body_bytes}; send smaller batches")
    if isinstance(error, asyncio.TimeoutError):
        return _error(408, f"the request body did not arrive within {body_timeout:g} s")
    if isinstance(error, (QueueFull, VersionUnloaded)):
        return _error(503, str(error))
    if isinstance(error, ClientDisconnect):
        return _error(400, "the client went away")
    return None


async def _not_found(request, exc):
    return _error(404, f"no route for {request.url.path}")


async def _not_allowed(request, exc):
    return _error(405, f"{request.method} is not allowed; use GET or POST", {"Allow": "GET, POST"})


async def _server_error(request, exc):
    return _error(500, f"internal error: {type(exc).__name__}")


def make_app(service, max_body_bytes: int = 32 << 20, body_timeout: float = 30.0) -> Starlette:
    """The ASGI app answering /v1/models/NAME[/versions/V][:predict|/metadata]."""

    async def endpoint(request):
        match = _ROUTE.match(request.url.path)
        if not match:
            return _error(404, f"no route for {request.url.path}; use /v1/models/NAME"
                               "[/versions/V][:predict|/metadata]")
        name, action = match["name"], match["action"]
        version = int(match["version"]) if match["version"] else None
        wanted = "POST" if action == ":predict" else "GET"
        if request.method != wanted:
            return _error(405, f"{request.method} is not allowed here; use {wanted}",
                          {"Allow": wanted})
        try:
            if action == "/metadata":
                return _json(200, service.metadata(name, version))
            if action is None:
                return _json(200, service.status(name, version))
            return await _predict(service, request, name, version, max_body_bytes, body_timeout)
        except Exception as e:
            refusal = _refusal(e, max_body_bytes, body_timeout)
            if refusal is None:
                raise
            return refusal

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)],
                     exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error,
                                         Exception: _server_error})
