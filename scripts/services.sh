#!/usr/bin/env bash
# Makes sure the real services the tests talk to are up: PostgreSQL, Redis, and a headless Chromium.
# Sourced by scripts/test.sh. Uses Debian's packages and the start commands of our machine image.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_ready=""
apt_install() {
  [ -n "$apt_ready" ] || { as_root apt-get update -qq; apt_ready=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
redis-cli -h 127.0.0.1 ping >/dev/null || { echo "Redis did not start" >&2; exit 1; }

if ! command -v chromium >/dev/null; then apt_install chromium chromium-driver; fi
export TRUSTBOARD_CHROMIUM="${TRUSTBOARD_CHROMIUM:-$(command -v chromium)}"
