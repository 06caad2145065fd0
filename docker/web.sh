#!/bin/sh
# Web container: migrate, load the catalog (idempotent), then serve with gunicorn.
set -eu
python manage.py migrate --noinput
if [ -n "${DEMO_PASSWORD:-}" ]; then
    python manage.py load_catalog --demo-password "$DEMO_PASSWORD"
else
    python manage.py load_catalog
fi
exec gunicorn web.wsgi:application \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --threads "${WEB_THREADS:-4}" \
    --access-logfile - \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}"
