"""Schemathesis hooks of the test command: the API fuzzed as a real signed-in member.

The local server runs with the demo data. Every operation that needs an access token gets
one of the demo member's (member@example.com): a real login, the password then the SMS code
read from the outbox, in the member's own space. The operations that change a credential get
a session re-authenticated just before (the password and a code again). A token whose
session the fuzzing ended (a logout, a revoked session, a password change) is replaced by a
new login and the request replayed, so every operation is tried past 401.

The provider keeps the device token of its first login: the fuzzer's own wrong passwords
for the member slow the account down for everyone else, never for this device (the device
cookies of the hardening). When the fuzzer changes the member's password, the new one is
noted.
"""
import json
import os
import re
import urllib.error
import urllib.request

import schemathesis

BASE = os.environ["SIGNET_FUZZ_URL"].rstrip("/")  # the API (…/api)
ROOT = BASE.removesuffix("/api")  # the local server, whose /_dev pages are outside the API
EMAIL = "member@example.com"
STATE = {"password": "demo portal password 2026", "device": None, "logins": 0}

# Operations that need a re-authentication within five minutes.
CREDENTIAL_PATHS = {"/account/password", "/account/totp", "/account/phone", "/account/alternate-email"}


def call(method, path, body=None, token=None, base=BASE):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def last_code():
    status, messages = call("GET", "/_dev/outbox.json?limit=1", base=ROOT)
    match = re.search(r"\b(\d{6})\b", messages[0]["body"]) if status == 200 and messages else None
    if not match:
        raise RuntimeError(f"no code in the outbox: {messages}")
    return match.group(1)


def login():
    body = {"email": EMAIL, "password": STATE["password"], "device": "schemathesis"}
    if STATE["device"]:
        body["device_token"] = STATE["device"]
    status, started = call("POST", "/login", body)
    if status != 200 or started.get("status") != "second_factor_required":
        raise RuntimeError(f"login of {EMAIL}: {status} {started}")
    status, answer = call("POST", "/login/code", {"login_token": started["login_token"], "code": last_code()})
    if status == 200 and answer.get("status") == "choose_space":
        own = next(s for s in answer["spaces"] if s["kind"] == "individual")
        status, answer = call("POST", "/login/space", {"login_token": started["login_token"], "space_id": own["id"]})
    if status != 200 or answer.get("status") != "signed_in":
        raise RuntimeError(f"second factor of {EMAIL}: {status} {answer}")
    STATE["device"] = answer["device_token"]
    STATE["logins"] += 1
    return answer["access_token"]


def reauthenticate(token):
    status, started = call("POST", "/reauth", {"password": STATE["password"]}, token)
    if status != 200:
        raise RuntimeError(f"re-authentication: {status} {started}")
    status, done = call("POST", "/reauth/code", {"challenge_token": started["login_token"], "code": last_code()}, token)
    if status != 200:
        raise RuntimeError(f"re-authentication code: {status} {done}")


def kind(case):
    return "credential" if case.operation.path in CREDENTIAL_PATHS else "plain"


@schemathesis.auth(refresh_interval=240, cache_by_key=lambda case, context: kind(case))
class SignedInMember:
    def get(self, case, context):
        token = login()
        if kind(case) == "credential":
            reauthenticate(token)
        return token

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(context, case, response):
    # The fuzzer changed the member's password: the next logins use the new one.
    if case.operation.path == "/account/password" and response.status_code == 200 and isinstance(case.body, dict):
        STATE["password"] = case.body["new_password"]
