"""HTTP server implementing TF Serving's REST API (predict, status, metadata) over a registry."""
import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import tensorflow as tf

from tfgad.serving import rest
from tfgad.serving.registry import ModelNotFound, ModelRegistry

_ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
                    r"(?P<action>:predict|/metadata)?$")


class _Handler(BaseHTTPRequestHandler):
    registry: ModelRegistry = None
    max_body_bytes = 0
    server_version = "tfgad-serving"

    def log_message(self, format, *args):  # noqa: A002 - quiet by default
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, message):
        self._send(status, {"error": message})

    def _route(self):
        match = _ROUTE.match(self.path.split("?")[0])
        if not match:
            raise ModelNotFound(f"no route for {self.path}; use /v1/models/NAME[/versions/V]"
                                "[:predict|/metadata]")
        version = int(match["version"]) if match["version"] else None
        return match["name"], version, match["action"]

    def do_GET(self):  # noqa: N802 - http.server's naming
        try:
            name, version, action = self._route()
            if action == ":predict":
                return self._error(HTTPStatus.METHOD_NOT_ALLOWED, "predict needs POST")
            version, model = self.registry.get(name, version)
            if action == "/metadata":
                signatures = {k: rest.signature_metadata(f) for k, f in model.signatures.items()}
                return self._send(HTTPStatus.OK, {
                    "model_spec": {"name": name, "signature_name": "", "version": str(version)},
                    "metadata": {"signature_def": {"signature_def": signatures}}})
            self._send(HTTPStatus.OK, {"model_version_status": [
                {"version": str(version), "state": "AVAILABLE",
                 "status": {"error_code": "OK", "error_message": ""}}]})
        except ModelNotFound as e:
            self._error(HTTPStatus.NOT_FOUND, str(e))

    def do_POST(self):  # noqa: N802
        try:
            name, version, action = self._route()
            if action != ":predict":
                return self._error(HTTPStatus.METHOD_NOT_ALLOWED, "POST only to ...:predict")
            length = int(self.headers.get("Content-Length") or 0)
            if length > self.max_body_bytes:
                self.rfile.read(min(length, 1 << 20))  # drain a little, then refuse
                return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                   f"request body of {length} bytes exceeds the limit of "
                                   f"{self.max_body_bytes}; send smaller batches")
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except json.JSONDecodeError as e:
                raise rest.BadRequest(f"malformed JSON: {e}") from None
            if not isinstance(body, dict):
                raise rest.BadRequest("the request body must be a JSON object")
            version, model = self.registry.get(name, version)
            signature = body.get("signature_name") or "serving_default"
            if signature not in model.signatures:
                return self._error(HTTPStatus.BAD_REQUEST,
                                   f"signature {signature!r} not found; known: "
                                   f"{sorted(model.signatures)}")
            function = model.signatures[signature]
            inputs, style = rest.parse(body, function)
            self._send(HTTPStatus.OK, rest.respond(function(**inputs), style))
        except ModelNotFound as e:
            self._error(HTTPStatus.NOT_FOUND, str(e))
        except rest.BadRequest as e:
            self._error(HTTPStatus.BAD_REQUEST, str(e))
        except tf.errors.InvalidArgumentError as e:
            # The graph's own input checks (shape, NaN) end up here.
            self._error(HTTPStatus.BAD_REQUEST, _assertion_text(e))


def _assertion_text(error):
    lines = [l.strip() for l in str(error.message).splitlines() if "assertion failed" in l]
    return lines[0] if lines else str(error.message).splitlines()[0]


def make_server(model_name, model_base_path, host="127.0.0.1", port=8501,
                max_body_bytes=32 << 20):
    """A ThreadingHTTPServer (one thread per request) serving one model's versions."""
    handler = type("Handler", (_Handler,), {
        "registry": ModelRegistry(model_name, model_base_path), "max_body_bytes": max_body_bytes})
    return ThreadingHTTPServer((host, port), handler)


def serve_in_thread(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
