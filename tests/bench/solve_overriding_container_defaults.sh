#!/usr/bin/env bash
# "Overriding container defaults" done by hand with the docker CLI: the baseline that
# `dockdojo run overriding-container-defaults --solve` is timed against
# (tests/bench/bench_solve.py).
set -euo pipefail
ready() { until docker exec "$1" psql -U postgres "${@:2}" -tAc "select 1" >/dev/null 2>&1; do sleep 0.2; done; }
docker pull -q postgres >/dev/null
docker run --name env-demo -e foo=bar postgres env | grep -q foo=bar
docker run -d --name limited-postgres -e POSTGRES_PASSWORD=secret --memory=512m --cpus=0.5 postgres >/dev/null
docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' limited-postgres | grep -q "536870912 500000000"
docker run -d --name postgres1 -e POSTGRES_PASSWORD=secret -p 127.0.0.1:5432:5432 postgres >/dev/null
docker run -d --name postgres2 -e POSTGRES_PASSWORD=secret -p 127.0.0.1:5433:5432 postgres >/dev/null
ready postgres2
docker ps >/dev/null
docker run -d --name override-postgres -e POSTGRES_PASSWORD=secret postgres docker-entrypoint.sh -h localhost -p 5432 >/dev/null
ready override-postgres -h localhost
docker exec override-postgres psql -h localhost -U postgres -tAc "show listen_addresses" | grep -q localhost
docker run -d --name shop-bench -e POSTGRES_PASSWORD=secret -e POSTGRES_DB=shop_bench postgres >/dev/null
ready shop-bench -d shop_bench
docker pull -q redis >/dev/null
docker run -d --name small-bench --memory 64m --cpus 0.25 redis redis-server --maxmemory 32mb >/dev/null
until docker exec small-bench redis-cli PING >/dev/null 2>&1; do sleep 0.1; done
docker exec small-bench redis-cli CONFIG GET maxmemory | grep -q 33554432
