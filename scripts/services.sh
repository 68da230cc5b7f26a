#!/usr/bin/env bash
# Start the local services the service tests need, if they are not running (idempotent).
# PostgreSQL 127.0.0.1:5432, RabbitMQ 127.0.0.1:5672, Redis 127.0.0.1:6379.
set -uo pipefail
log() { printf '[services] %s\n' "$*" >&2; }
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! up 5432; then
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing postgresql"; $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  log "starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! up 5672; then
  if ! command -v rabbitmq-server >/dev/null; then
    log "installing rabbitmq-server"; $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  log "starting RabbitMQ"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 $SUDO -E rabbitmq-server -detached || true
  timeout 60 $SUDO rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
if ! up 6379; then
  if ! command -v redis-server >/dev/null; then
    log "installing redis-server"; $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
  fi
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
fi
for p in 5432 5672 6379; do
  for _ in $(seq 1 30); do up "$p" && break; sleep 1; done
  up "$p" || { log "port $p is still down"; exit 1; }
done
# the test database
if command -v psql >/dev/null && ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null 2>&1 || true
fi
log "PostgreSQL, RabbitMQ and Redis are up"
