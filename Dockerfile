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
# Migrations first, then the app; the keys and DATABASE_URL come from the environment.
CMD ["sh", "-c", "flask --app wsgi db upgrade && exec gunicorn --workers ${WEB_CONCURRENCY:-4} --bind 0.0.0.0:8000 --access-logfile - wsgi:app"]
