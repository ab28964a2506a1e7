"""gunicorn settings for `make serve` (read from the working directory). Override with env vars."""

from __future__ import annotations

import multiprocessing
import os

# `make serve` (deploy/serve.py) sets GUNICORN_BIND to a unix socket that only nginx talks to.
bind = (
    os.environ.get("GUNICORN_BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Requests are short and mostly CPU (rendering); a few workers per core keeps cores busy while
# others wait on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Recycle workers now and then so slow leaks cannot build up; jitter avoids all at once.
max_requests = 5000
max_requests_jitter = 500
# Only the local reverse proxy may set X-Forwarded-Proto (see DJANGO_BEHIND_PROXY).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The control socket (gunicornc) is off unless a path is given: several servers on one host (as
# in the tests and the load test) would otherwise share one default path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or "gunicorn.ctl"
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
# Import the app before forking: workers share its memory and a broken config fails at start.
preload_app = True
