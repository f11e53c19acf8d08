"""Starts the AWS emulator (moto's server) with its DynamoDB requests
handled one at a time, and a cheap way to read the mails SES accepted.

DynamoDB applies a conditional write atomically: of two writes conditioned
on the same version, one succeeds and the other fails. moto's server
answers requests on many threads and checks a condition and stores the
item in separate steps, so under load both writes can succeed. EMMA's
exactly-once sending rests on that guarantee, and its tests send from
concurrent workers, so the emulator is made to keep it. Other services
(S3, SQS long polls, SES) stay concurrent.

The tests read what SES accepted. moto's /moto-api/data.json dumps every
object it ever made (every DynamoDB item of every test, too), so it gets
slower with each test; GET /emma-emulator/ses-raw-messages answers only
the raw messages, in the same shape ({"ses": {"RawMessage": [...]}}).

Usage: python scripts/moto_atomic.py -H 127.0.0.1 -p PORT (as moto_server).
"""

import json
import sys
import threading

from moto.moto_server import werkzeug_app
from moto.server import main

_DYNAMODB = threading.Lock()
_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _raw_messages():
    from moto.ses.models import RawMessage

    return [
        {
            "id": m.id,
            "source": m.source,
            "destinations": m.destinations,
            "raw_data": m.raw_data,
        }
        for m in list(RawMessage.instances_tracked)
    ]


def _one_dynamodb_request_at_a_time(self, environ, start_response):
    if environ.get("PATH_INFO") == "/emma-emulator/ses-raw-messages":
        body = json.dumps({"ses": {"RawMessage": _raw_messages()}}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _DYNAMODB:
            # Read the whole answer inside the lock: the request's work is
            # done by the time the body exists.
            return list(_dispatch(self, environ, start_response))
    return _dispatch(self, environ, start_response)


werkzeug_app.DomainDispatcherApplication.__call__ = _one_dynamodb_request_at_a_time

if __name__ == "__main__":
    sys.exit(main())
