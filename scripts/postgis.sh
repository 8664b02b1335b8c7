#!/usr/bin/env bash
# Start (once) a throwaway PostgreSQL + PostGIS on 127.0.0.1 for the test suite and print its
# DSN. Installs Debian's postgresql and postgis packages when missing. Used by `make test`.
set -euo pipefail
PGVER=${PGVER:-15}
BIN=/usr/lib/postgresql/$PGVER/bin
DIR=${ATLAS_PG_DIR:-/tmp/atlas-pg-$PGVER}
PORT=${ATLAS_PG_PORT:-55432}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if [ ! -x "$BIN/initdb" ] || [ ! -f "/usr/share/postgresql/$PGVER/extension/postgis.control" ]; then
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-$PGVER" \
    "postgresql-$PGVER-postgis-3" >&2
fi
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! run "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR" && mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  run "$BIN/initdb" -D "$DIR" -U postgres -A trust >/dev/null
  run "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1" start >&2
fi
if ! run "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'atlas_test'" | grep -q 1; then
  run "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres atlas_test
fi
echo "postgresql://postgres@127.0.0.1:$PORT/atlas_test"
