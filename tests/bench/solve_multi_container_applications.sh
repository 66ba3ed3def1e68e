#!/usr/bin/env bash
# "Multi-container applications" done by hand with the docker CLI and Compose: the
# baseline that `dockdojo run multi-container-applications --solve` is timed against
# (tests/bench/bench_solve.py), on a copy of the lesson's sample app.
set -euo pipefail
page() { curl -fsS --retry 100 --retry-connrefused --retry-delay 0 --retry-max-time 20 "$1"; }
compose() { if docker compose version >/dev/null 2>&1; then docker compose "$@"; else docker-compose "$@"; fi; }
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
cp -r "$here/content/multi-container-applications/nginx-node-redis" "$work/"
cd "$work/nginx-node-redis"
(cd nginx && docker build -q -t nginx . >/dev/null)
(cd web && docker build -q -t web . >/dev/null)
docker network rm sample-app >/dev/null 2>&1 || true
docker network create sample-app >/dev/null
docker run -d --name redis --network sample-app --network-alias redis redis >/dev/null
docker run -d --name web1 -h web1 --network sample-app --network-alias web1 web >/dev/null
docker run -d --name web2 -h web2 --network sample-app --network-alias web2 web >/dev/null
docker run -d --name nginx --network sample-app -p 127.0.0.1::80 nginx >/dev/null
page "http://127.0.0.1:$(docker port nginx 80/tcp | head -1 | cut -d: -f2)/" | grep -q "Number of visits is"
docker rm -f nginx web1 web2 redis >/dev/null
compose up -d --build >/dev/null 2>&1
compose ps >/dev/null
compose down >/dev/null 2>&1
docker build -q -t web-bench web >/dev/null
compose -p counter-bench up -d --build >/dev/null 2>&1
compose -p counter-bench down >/dev/null 2>&1
docker network rm sample-app >/dev/null
