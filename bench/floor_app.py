"""The floor under bench/ingest.py: our upload parser and OpenRosa answer under the same gunicorn, no database.

The distance between this row and the real ones is what authentication,
the form lookup, the inserts and the durable commit cost.
"""

from flask import Flask, request

from samen.config import DEFAULT_MAX_UPLOAD_BYTES
from samen.openrosa.responses import message_response
from samen.openrosa.upload import incoming_submission

app = Flask(__name__)


@app.post("/submission")
def submission():
    incoming_submission(request, DEFAULT_MAX_UPLOAD_BYTES)
    return message_response("Thank you: your form has been received.", "submit_success", 201)
