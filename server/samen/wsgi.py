"""The WSGI entry point gunicorn serves (`samen serve`)."""

from samen.app import create_app

app = create_app()
