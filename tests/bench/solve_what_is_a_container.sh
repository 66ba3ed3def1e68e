#!/usr/bin/env bash
# "What is a container?" done by hand with the docker CLI and curl: the baseline that
# `dockdojo run what-is-a-container --solve` is timed against (tests/bench/bench_solve.py).
set -euo pipefail
page() { curl -fsS --retry 50 --retry-connrefused --retry-delay 0 --retry-max-time 10 "$1"; }
docker pull -q docker/welcome-to-docker >/dev/null
docker run -d --name welcome-to-docker -p 127.0.0.1:8080:80 docker/welcome-to-docker >/dev/null
page http://127.0.0.1:8080/ | grep -q Congratulations
docker ps >/dev/null
docker stop welcome-to-docker >/dev/null
docker run -d --name hello-bench -p 127.0.0.1:0:80 docker/welcome-to-docker >/dev/null
port=$(docker port hello-bench 80/tcp | head -1 | cut -d: -f2)
page "http://127.0.0.1:$port/" | grep -q Congratulations
docker pull -q busybox >/dev/null
docker run --name echo-bench busybox echo hello bench >/dev/null
docker logs echo-bench | grep -q "hello bench"
