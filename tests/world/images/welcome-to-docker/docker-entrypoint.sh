#!/bin/sh
# As in nginx's official image, on which the real welcome-to-docker is built: run the
# command given (nginx by default).
set -e
exec "$@"
