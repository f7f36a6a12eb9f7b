"""gunicorn settings it reads by itself from the working directory (the Dockerfile's and the
README's commands run from the project root). Command-line flags still win."""

# Threads per worker (gunicorn's gthread worker). A refresh waits up to 5 s on a provider; with
# one thread per worker, a few people refreshing a slow host would hold every worker and stall
# everyone else (measured with bench/load.py, scenario 2). A worker keeps each client's
# keep-alive connection, so the slow ones are not spread evenly: with 8 threads, 16 people
# refreshing a silent host filled a worker now and then and the others behind it waited 5 s
# more; 16 never did. The app keeps no per-request state in globals, so threads are safe
# (ARCHITECTURE: "production workers run several threads").
threads = 16

# Seconds an idle keep-alive connection stays open (gunicorn's default is 2). A client pausing
# about 2 s between requests raced the close and saw "connection reset" (bench/load.py); idle
# connections cost no thread in the gthread worker. Behind a proxy, its own timeout decides.
keepalive = 5

# gunicorn's default access line plus the request id, so the access line and the app's own log
# lines of one request share the id its response carries (`X-Request-ID`).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
