#!/bin/sh
# Checks the Debian packages signlink needs; installs what is missing when run as root.
#   scripts/system-deps.sh run    what `make run` needs
#   scripts/system-deps.sh test   what `make test` needs (browser, ffmpeg, compose validator, ...)
set -eu
profile=${1:-run}

# command-or-file:package
need="python3:python3 redis-server:redis-server /usr/lib/x86_64-linux-gnu/libEGL.so.1:libegl1"
need="$need /usr/lib/x86_64-linux-gnu/libGLESv2.so.2:libgles2"
python3 -c 'import venv, ensurepip' 2>/dev/null || need="$need missing-venv:python3-venv"
# PostgreSQL: the records (an embedded server when SIGNLINK_DATABASE_URL is empty; tests start private ones).
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need="$need missing-postgres:postgresql"
if [ "$profile" = test ]; then
    need="$need chromium:chromium ffmpeg:ffmpeg docker-compose:docker-compose ip:iproute2 unshare:util-linux"
    need="$need turnserver:coturn npm:npm"
    need="$need haproxy:haproxy"  # the no-affinity load balancer of the check tests
fi

missing=""
for item in $need; do
    thing=${item%%:*}
    package=${item#*:}
    case $thing in
        /*) [ -e "$thing" ] || [ -e "$(echo "$thing" | sed 's#x86_64-linux-gnu#aarch64-linux-gnu#')" ] \
                || missing="$missing $package" ;;
        *) command -v "$thing" >/dev/null 2>&1 || missing="$missing $package" ;;
    esac
done

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # coturn's package starts a TURN server on boot paths we do not want; tests start their own.
    # postgresql's package starts a cluster on 5432 where systemd runs: signlink uses it if it may.
    exit 0
fi
echo "signlink needs these Debian packages:$missing" >&2
echo "install them with: sudo apt-get install$missing" >&2
exit 1
