"""The lab's webhook sink: every POST's body is saved to a file of its own.

Run as ``python3 webhook_sink.py DIR PORT``. A POST to any path answers 204 and
leaves ``DIR/<UTC time>-<n>.body`` (the body exactly as sent) beside
``DIR/<UTC time>-<n>.json`` (its path and headers). Each file appears whole
(written aside, then renamed), so a reader never sees half a request. GET
answers 200 with the number of requests saved, for health checks.
"""
import datetime
import http.server
import itertools
import json
import os
import sys
import threading

_COUNTER = itertools.count(1)
_LOCK = threading.Lock()


def _write(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.rename(tmp, path)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "forexai-lab-webhook-sink"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _LOCK:
            seq = next(_COUNTER)
        stem = "%s-%06d" % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ"), seq)
        meta = {"path": self.path, "headers": dict(self.headers.items()), "client": self.client_address[0]}
        _write(os.path.join(self.server.sink_dir, stem + ".json"), json.dumps(meta, indent=2).encode())
        _write(os.path.join(self.server.sink_dir, stem + ".body"), body)
        self.send_response(204)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        saved = len([n for n in os.listdir(self.server.sink_dir) if n.endswith(".body")])
        payload = json.dumps({"saved": saved}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main(argv):
    sink_dir, port = argv[1], int(argv[2])
    os.makedirs(sink_dir, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.sink_dir = sink_dir
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
