#!/usr/bin/env bash
# Starts the web server and one Celery worker per queue together; Ctrl-C stops them all.
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

# One worker per cost queue (scripts/worker.sh): light jobs never wait behind an upscale.
for queue in light heavy; do
  PY="$PY" bash scripts/worker.sh "$queue" &
  pids+=($!)
done
# Beat: the stale-job sweeper and retention (schedule in settings; its state file under var/).
"$PY" -m celery -A enhancer_site beat --loglevel=INFO &
pids+=($!)
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

echo
echo "Enhancer is running at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)"
if [ "${DJANGO_DEBUG:-}" = "true" ]; then
  echo "Django's debug pages are on (DEBUG=1)."
else
  echo "Errors show the site's own pages; 'make run DEBUG=1' shows Django's debug pages instead."
fi
echo "Press Ctrl-C to stop the web server and the workers."
echo
# Whichever stops first (a crash, or Ctrl-C) takes the other down with it.
wait -n
