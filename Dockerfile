FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PPM_ENV=production \
    PPM_INSTANCE_PATH=/app/instance

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 ppm
COPY --chown=ppm:ppm . .
RUN mkdir -p /app/instance && chown ppm:ppm /app/instance
USER ppm

EXPOSE 8000
# Liveness only (/healthz touches no dependency): a database outage must not get the container
# restarted; load balancers ask /readyz. Python's own urllib, so the image needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Migrations first, then the app; the keys, DATABASE_URL and REDIS_URL come from the environment.
# gunicorn runs threaded workers (gthread): a person waiting on a slow provider during a single
# refresh holds one thread, not a whole process.
# Job workers (background refresh, SPEC §14) run from this same image with another command:
#   docker run --env-file ppm.env IMAGE flask --app wsgi ppm worker
CMD ["sh", "-c", "flask --app wsgi db upgrade && exec gunicorn --worker-class gthread --workers ${WEB_CONCURRENCY:-2} --threads ${GUNICORN_THREADS:-16} --bind 0.0.0.0:8000 --access-logfile - wsgi:app"]
