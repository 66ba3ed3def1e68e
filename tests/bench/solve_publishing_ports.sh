#!/usr/bin/env bash
# "Publishing and exposing ports" done by hand with the docker CLI and curl: the baseline
# that `dockdojo run publishing-ports --solve` is timed against (tests/bench/bench_solve.py).
set -euo pipefail
page() { curl -fsS --retry 50 --retry-connrefused --retry-delay 0 --retry-max-time 10 "$1"; }
port() { docker port "$1" "$2/tcp" | head -1 | cut -d: -f2; }
docker pull -q nginx >/dev/null
docker run -d --name local-nginx -p 127.0.0.1:8081:80 nginx >/dev/null
page http://127.0.0.1:8081/ | grep -q "Welcome to nginx!"
docker run -d --name random-nginx -p 127.0.0.1::80 nginx >/dev/null
page "http://127.0.0.1:$(port random-nginx 80)/" | grep -q "Welcome to nginx!"
docker run -d --name all-nginx -P nginx >/dev/null
page "http://127.0.0.1:$(port all-nginx 80)/" | grep -q "Welcome to nginx!"
docker run -d -p 127.0.0.1:8080:80 docker/welcome-to-docker >/dev/null
docker ps >/dev/null
page http://127.0.0.1:8080/ | grep -q Congratulations
docker pull -q redis >/dev/null
docker run -d --name cache-bench -p 127.0.0.1::6379 redis >/dev/null
docker port cache-bench 6379/tcp | grep -q 127.0.0.1
docker run -d --name site-a-bench -p 127.0.0.1::80 nginx >/dev/null
docker run -d --name site-b-bench -P nginx >/dev/null
page "http://127.0.0.1:$(port site-a-bench 80)/" | grep -q "Welcome to nginx!"
page "http://127.0.0.1:$(port site-b-bench 80)/" | grep -q "Welcome to nginx!"
