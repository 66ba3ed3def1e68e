#!/usr/bin/env bash
# "Persisting container data" done by hand with the docker CLI: the baseline that
# `dockdojo run persisting-container-data --solve` is timed against (tests/bench/bench_solve.py).
set -euo pipefail
ready() { until docker exec "$1" pg_isready -h 127.0.0.1 >/dev/null 2>&1; do sleep 0.2; done; }
sql() { docker exec "$1" psql -U postgres -tAc "$2"; }
docker volume rm -f postgres_data >/dev/null 2>&1 || true
docker pull -q postgres:18 >/dev/null
docker run --name=db -e POSTGRES_PASSWORD=secret -d -v postgres_data:/var/lib/postgresql postgres:18 >/dev/null
ready db
sql db "CREATE TABLE tasks (id SERIAL PRIMARY KEY, description VARCHAR(100));" >/dev/null
sql db "INSERT INTO tasks (description) VALUES ('Finish work'), ('Have fun');" >/dev/null
docker stop db >/dev/null; docker rm db >/dev/null
docker run --name=new-db -d -v postgres_data:/var/lib/postgresql postgres:18 >/dev/null
ready new-db
sql new-db "SELECT * FROM tasks" | grep -q "Have fun"
docker volume ls >/dev/null
docker rm -f new-db >/dev/null
docker volume rm postgres_data >/dev/null
docker pull -q busybox >/dev/null
docker run --name writer-bench -v share-bench:/data busybox sh -c "echo hello bench > /data/hello.txt"
docker run --name reader-bench -v share-bench:/data:ro busybox cat /data/hello.txt | grep -q "hello bench"
docker run -d --name pg-bench -e POSTGRES_PASSWORD=secret -v data-bench:/var/lib/postgresql postgres:18 >/dev/null
ready pg-bench
sql pg-bench "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('kept bench');" >/dev/null
docker rm -f pg-bench >/dev/null
docker run -d --name pg2-bench -v data-bench:/var/lib/postgresql postgres:18 >/dev/null
ready pg2-bench
sql pg2-bench "SELECT note FROM kept" | grep -q "kept bench"
docker rm -f pg2-bench >/dev/null
docker volume rm -f data-bench >/dev/null
