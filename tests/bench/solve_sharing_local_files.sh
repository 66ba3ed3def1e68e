#!/usr/bin/env bash
# "Sharing local files with containers" done by hand with the docker CLI and curl: the
# baseline that `dockdojo run sharing-local-files --solve` is timed against
# (tests/bench/bench_solve.py). It runs in a folder of its own, as the notebook's.
set -euo pipefail
page() { curl -fsS --retry 50 --retry-connrefused --retry-delay 0 --retry-max-time 10 "$1"; }
port() { docker port "$1" 80/tcp | head -1 | cut -d: -f2; }
cd "$(mktemp -d)"
docker pull -q httpd:2.4 >/dev/null
docker run -d -p 127.0.0.1:8080:80 --name my_site httpd:2.4 >/dev/null
page http://127.0.0.1:8080/ | grep -q "It works!"
docker rm -f my_site >/dev/null
mkdir -p public_html
printf '<h1>Whalecome!!</h1>\n' > public_html/index.html
chmod -R o+rX .
docker run -d --name my_site -p 127.0.0.1:8080:80 -v "$PWD/public_html:/usr/local/apache2/htdocs/" httpd:2.4 >/dev/null
page http://127.0.0.1:8080/ | grep -q "Whalecome"
printf '<h1>Hello from my folder</h1>\n' > public_html/index.html
page http://127.0.0.1:8080/ | grep -q "Hello from my folder"
docker run -d --name my_site_ro -p 127.0.0.1::80 -v "$PWD/public_html:/usr/local/apache2/htdocs/:ro" httpd:2.4 >/dev/null
page "http://127.0.0.1:$(port my_site_ro)/" | grep -q "Hello from my folder"
docker rm -f my_site >/dev/null
mkdir -p site-bench out-bench; chmod o+rwx out-bench
printf '<h1>bench</h1>\n' > site-bench/index.html; chmod -R o+rX site-bench
docker run -d --name page-bench -p 127.0.0.1::80 -v "$PWD/site-bench:/usr/local/apache2/htdocs/:ro" httpd:2.4 >/dev/null
page "http://127.0.0.1:$(port page-bench)/" | grep -q bench
docker pull -q busybox >/dev/null
docker run --name writer-bench -v "$PWD/out-bench:/out" busybox sh -c "echo written by bench > /out/note.txt"
grep -q "written by bench" out-bench/note.txt
