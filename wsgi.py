"""The gunicorn / `flask --app wsgi` entry point."""

from ppm import create_app

app = create_app()
