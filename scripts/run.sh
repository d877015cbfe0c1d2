#!/usr/bin/env bash
# Starts the web server and a Celery worker together; Ctrl-C stops both.
set -euo pipefail
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$PY" -m celery -A enhancer_site worker -Q enhance,faces --concurrency "${WORKER_CONCURRENCY:-1}" --loglevel=INFO &
pids+=($!)
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

echo
echo "Enhancer is running at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)"
echo "Press Ctrl-C to stop the web server and the worker."
echo
# Whichever stops first (a crash, or Ctrl-C) takes the other down with it.
wait -n
