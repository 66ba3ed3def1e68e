#!/usr/bin/env bash
# The seed lesson done by hand with the docker CLI and curl: the baseline that
# `dockdojo run what-is-an-image --solve` is timed against (tests/bench/bench_solve.py).
set -euo pipefail
docker pull -q nginx >/dev/null; docker pull -q redis >/dev/null; docker pull -q mongo >/dev/null
docker images >/dev/null
web=$(docker run -d -p 127.0.0.1:0:80 nginx)
port=$(docker port "$web" 80/tcp | head -1 | cut -d: -f2)
curl -fsS "http://127.0.0.1:$port/" | grep -q "Welcome to nginx!"
cache=$(docker run -d redis)
until docker exec "$cache" redis-cli PING >/dev/null 2>&1; do sleep 0.1; done
docker exec "$cache" redis-cli SET test 1 >/dev/null
[ "$(docker exec "$cache" redis-cli GET test)" = 1 ]
db=$(docker run -d mongo)
until docker exec "$db" mongosh --quiet --eval 1 >/dev/null 2>&1; do sleep 0.2; done
docker exec "$db" mongosh --quiet --eval 'db.test.insertOne({ active: true, email: "moby@docker.com" })' >/dev/null
docker exec "$db" mongosh --quiet --eval 'db.test.findOne({ email: "moby@docker.com" })' | grep -q moby
docker rmi nginx >/dev/null 2>&1 && exit 1   # in use: must fail
docker rm -f $(docker ps -aq --filter ancestor=nginx) >/dev/null
docker rmi nginx >/dev/null
docker run -d --name cache redis >/dev/null
until docker exec cache redis-cli PING >/dev/null 2>&1; do sleep 0.1; done
docker exec cache redis-cli SET dojo rocks >/dev/null
docker pull -q nginx >/dev/null
docker run -d --name web-random -p 127.0.0.1:0:80 nginx >/dev/null
port=$(docker port web-random 80/tcp | head -1 | cut -d: -f2)
curl -fsS "http://127.0.0.1:$port/" | grep -q "Welcome to nginx!"
docker rm -f $(docker ps -aq --filter ancestor=mongo) >/dev/null
docker rmi mongo >/dev/null
