#!/usr/bin/env bash
# Start a local PostgreSQL server for the adapter tests and print the URL to use.
# Installs Debian's postgresql package when it is missing. Prints nothing (and exits 0)
# when no server can be started, so the PostgreSQL tests skip and say why.
set -uo pipefail

log() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's postgresql package"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || { log "install failed"; exit 0; }
  else
    log "no PostgreSQL and no way to install it"; exit 0
  fi
fi

cluster=$(pg_lsclusters --no-header 2>/dev/null | head -n 1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
  [ -n "$version" ] || { log "no PostgreSQL server binaries"; exit 0; }
  pg_createcluster "$version" main >&2 || { log "cannot create a cluster"; exit 0; }
  cluster=$(pg_lsclusters --no-header | head -n 1)
fi
version=$(echo "$cluster" | awk '{print $1}')
name=$(echo "$cluster" | awk '{print $2}')
port=$(echo "$cluster" | awk '{print $3}')
pg_ctlcluster "$version" "$name" start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h localhost -p "$port" && break
  sleep 1
done
pg_isready -q -h localhost -p "$port" || { log "server did not start"; exit 0; }

as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }
as_postgres "psql -q -p $port -tc \"SELECT 1 FROM pg_roles WHERE rolname='crmkit'\" | grep -q 1 || psql -q -p $port -c \"CREATE ROLE crmkit LOGIN PASSWORD 'crmkit'\"" >&2 || { log "cannot create the role"; exit 0; }
as_postgres "psql -q -p $port -tc \"SELECT 1 FROM pg_database WHERE datname='crmkit_test'\" | grep -q 1 || createdb -p $port -O crmkit crmkit_test" >&2 || { log "cannot create the database"; exit 0; }
echo "postgresql+psycopg://crmkit:crmkit@localhost:$port/crmkit_test"
