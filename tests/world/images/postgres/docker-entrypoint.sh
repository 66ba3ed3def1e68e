#!/bin/sh
# Entrypoint of the postgres test fixture (run by busybox sh). Like the official image's:
# - as root, it makes the data folder ($PGDATA) the postgres user's and runs itself again
#   as that user;
# - when $PGDATA holds no cluster, it runs initdb with the superuser POSTGRES_USER
#   (default postgres) and POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), lets every address in with that password
#   (scram-sha-256; local socket connections are trusted), creates POSTGRES_DB (default:
#   the user's name) and runs /docker-entrypoint-initdb.d/*.sh and *.sql;
# - a folder that holds a cluster is used as it is;
# - then it runs the real server (postgres) in the foreground.
set -e

if [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
	exec "$@"
fi

PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres /var/lib/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	chmod 3777 /var/run/postgresql
	# "--": the server's own options (-h, -p, -c) must not be read as su's
	exec su -m -s /bin/sh -c 'exec "$0" "$@"' postgres -- "$0" "$@"
fi

POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
if [ -s "$PGDATA/PG_VERSION" ]; then
	printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
	exec "$@"
fi

if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
	cat >&2 <<-'EOE'
		Error: Database is uninitialized and superuser password is not specified.
		       You must specify POSTGRES_PASSWORD to a non-empty value for the
		       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

		       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
		       connections without a password. This is *not* recommended.

		       See PostgreSQL documentation about "trust":
		       https://www.postgresql.org/docs/current/auth-trust.html
	EOE
	exit 1
fi

pwfile=$(mktemp)
printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS holds several arguments
initdb --username="$POSTGRES_USER" --pwfile="$pwfile" $POSTGRES_INITDB_ARGS
rm -f "$pwfile"
printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"

# A server for this container only (no TCP) while the database is made.
pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
sql() {
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}
if [ "$POSTGRES_DB" != postgres ]; then
	sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
		CREATE DATABASE :"db" ;
	EOSQL
	echo
fi
for f in /docker-entrypoint-initdb.d/*; do
	case "$f" in
		*.sh) echo "$0: running $f"; . "$f" ;;
		*.sql) echo "$0: running $f"; sql --dbname "$POSTGRES_DB" -f "$f"; echo ;;
		*) if [ -e "$f" ]; then echo "$0: ignoring $f"; fi ;;
	esac
done
pg_ctl -D "$PGDATA" -m fast -w stop

printf '\nPostgreSQL init process complete; ready for start up.\n\n'
exec "$@"
