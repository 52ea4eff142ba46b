"""moto server for the tests, with requests processed one at a time.

moto's TransactWriteItems copies a table before applying a transaction and restores the copy
when a condition fails, so a transaction that fails at the same moment as another succeeds
can wipe the winner's writes. DynamoDB isolates transactions; processing one request at a
time gives the tests that isolation (the application-level races the scenarios create --
two requests reading the same version before either writes -- still happen).

usage: moto_server.py PORT
"""
import os
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Consume the whole response inside the lock: moto's work happens while it is built.
        body = list(app(environ, start_response))
    return body


run_simple("127.0.0.1", port, serialized, threaded=True, request_handler=MotoRequestHandler)
