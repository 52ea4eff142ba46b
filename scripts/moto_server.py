"""moto server for the tests, with requests processed one at a time.

moto's TransactWriteItems copies a table before applying a transaction and restores the copy
when a condition fails, so a transaction that fails at the same moment as another succeeds
can wipe the winner's writes. DynamoDB isolates transactions; processing one request at a
time gives the tests that isolation (the application-level races the scenarios create --
two requests reading the same version before either writes -- still happen).

It also serves GET /signet/sent: the emails and text messages sent so far, in the shape of
moto's /moto-api/data.json (["ses"]["Message"], ["sns"]["SMS"]) but without dumping every
other model (every DynamoDB item of every table), which made each read slower as the run grew.

usage: moto_server.py PORT
"""
import json
import os
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def sent():
    from moto.core.model_instances import model_data

    out = {}
    for service, name in (("ses", "Message"), ("sns", "SMS")):
        model = model_data.get(service, {}).get(name)
        instances = list(getattr(model, "instances_tracked", [])) if model else []
        out.setdefault(service, {})[name] = [
            {k: v for k, v in vars(i).items() if not k.startswith("_") and isinstance(v, (str, int, dict, list))}
            for i in instances
        ]
    return json.dumps(out).encode()


def serialized(environ, start_response):
    if environ.get("PATH_INFO") == "/signet/sent":
        with lock:
            body = sent()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    with lock:
        # Consume the whole response inside the lock: moto's work happens while it is built.
        body = list(app(environ, start_response))
    return body


run_simple("127.0.0.1", port, serialized, threaded=True, request_handler=MotoRequestHandler)
