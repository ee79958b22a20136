#!/usr/bin/env bash
# Install (or upgrade) tradebotd as a systemd service. Run as root: `make install`.
#
#   TELEGRAM_BOT_TOKEN_FILE=/root/token              a file holding the token (first line),
#                                                    for a new env file; or an exported
#                                                    TELEGRAM_BOT_TOKEN; else asked on a
#                                                    terminal (never echoed). The token never
#                                                    appears on a command line.
#   ADMIN_IDS, TELEGRAM_API_URL                      values for a new env file (else asked)
#   LEGACY_SCRIPTS="/srv/bot/bot.py …"               old bot scripts to hunt down
#   DESTDIR=/tmp/root                                install into a directory tree only:
#                                                    no user, no systemctl, no scan
#   PREFIX (/opt/tradebotd), PYTHON (python3)
#   --upgrade                                        keep settings; swap the venv with a
#                                                    stop → start (never two pollers)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/opt/tradebotd}
DESTDIR=${DESTDIR:-}
PYTHON=${PYTHON:-python3}
CONF=$DESTDIR/etc/tradebotd
UNITS=$DESTDIR/etc/systemd/system
VENV=$DESTDIR$PREFIX/venv
UPGRADE=0
[ "${1:-}" = "--upgrade" ] && UPGRADE=1
LIVE=1
[ -n "$DESTDIR" ] && LIVE=0

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }
# shellcheck source=scripts/install-lib.sh
. "$SRC/scripts/install-lib.sh"

[ "$LIVE" = 0 ] || [ "$(id -u)" = 0 ] || die "run as root (or set DESTDIR to install into a directory)"
if [ "$UPGRADE" = 1 ] && [ ! -f "$CONF/tradebotd.env" ]; then
    die "nothing to upgrade at ${DESTDIR:-/}: run make install first"
fi

# --- 1. the settings a new env file needs ------------------------------------------------
if [ ! -f "$CONF/tradebotd.env" ]; then
    read_token || exit 1
    if [ -t 0 ] && [ -z "${ADMIN_IDS:-}" ]; then
        read -rp "Admin Telegram user ids (comma-separated): " ADMIN_IDS
    fi
fi

# --- 2. the service user -------------------------------------------------------------------
if [ "$LIVE" = 1 ] && ! id tradebotd >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/tradebotd --no-create-home \
        --shell /usr/sbin/nologin tradebotd
    say "created system user tradebotd"
fi

# --- 3. a fresh venv beside the running one -------------------------------------------------
mkdir -p "$DESTDIR$PREFIX"
rm -rf "$VENV.new"
"$PYTHON" -m venv "$VENV.new"
"$VENV.new/bin/pip" install --quiet --disable-pip-version-check "$SRC"
rm -rf "$DESTDIR$PREFIX/docs"
cp -r "$SRC/docs" "$DESTDIR$PREFIX/docs"
say "built $VENV.new ($("$VENV.new/bin/tradebotd" --version))"

# Kept settings must load with the new version before anything running is touched.
if [ -f "$CONF/tradebotd.env" ]; then
    if ! checked=$(TRADEBOTD_CONFIG="$CONF/config.toml" \
            "$VENV.new/bin/tradebotd" config check --env-file "$CONF/tradebotd.env" 2>&1); then
        rm -rf "$VENV.new"
        printf '%s\n' "$checked" >&2
        die "the kept settings in $CONF do not load with the new version (above); nothing was changed"
    fi
fi

# --- 4. units and settings (settings are never overwritten) --------------------------------
mkdir -p "$UNITS" "$CONF"
for unit in "$SRC"/units/*.service "$SRC"/units/*.timer; do
    # The units name /opt/tradebotd; another PREFIX is written into them here.
    sed "s|/opt/tradebotd|$PREFIX|g" "$unit" > "$UNITS/$(basename "$unit")"
    chmod 0644 "$UNITS/$(basename "$unit")"
done
if [ ! -f "$CONF/tradebotd.env" ]; then
    umask 027
    rm -f "$CONF/tradebotd.env.tmp"
    write_env_file "$SRC/etc/tradebotd.env.sample" "$CONF/tradebotd.env.tmp"
    chmod 0640 "$CONF/tradebotd.env.tmp"
    [ "$LIVE" = 1 ] && chown root:tradebotd "$CONF/tradebotd.env.tmp"
    mv "$CONF/tradebotd.env.tmp" "$CONF/tradebotd.env"
    say "wrote $CONF/tradebotd.env (mode 0640)"
else
    say "kept $CONF/tradebotd.env"
fi
# config.toml may hold secrets (receiver URLs, ingest secrets): private like the env file.
[ -f "$CONF/config.toml" ] || install -m 0640 "$SRC/etc/config.toml.sample" "$CONF/config.toml"
chmod 0640 "$CONF/config.toml"
[ "$LIVE" = 1 ] && chown root:tradebotd "$CONF/config.toml"

token_set() { [ -n "$(env_value "$CONF/tradebotd.env" TELEGRAM_BOT_TOKEN)" ]; }
fill_in() {
    say "no token yet: fill in TELEGRAM_BOT_TOKEN and ADMIN_IDS in $CONF/tradebotd.env,"
    say "then run: systemctl start tradebotd"
}

# The venv was built as venv.new: its scripts' shebangs and activate files name that
# path. Point them at the final one.
swap_venv() {
    rm -rf "$VENV.old"
    if [ -d "$VENV" ]; then mv "$VENV" "$VENV.old"; fi
    mv "$VENV.new" "$VENV"
    grep -rlI --null "$VENV.new" "$VENV/bin" | xargs -0 -r sed -i "s|$VENV.new|$VENV|g"
    rm -rf "$VENV.old"
}

if [ "$LIVE" = 0 ]; then
    token_set || fill_in
    swap_venv
    say "installed into $DESTDIR (no service started)"
    exit 0
fi

# --- 5. swap the venv and (re)start: stop before start, never two pollers -----------------
systemctl daemon-reload
arm_restore
systemctl stop tradebotd.service 2>/dev/null || true
SERVICE_STOPPED=1
swap_venv
systemctl enable --quiet tradebotd-digest.timer tradebotd-digest-weekly.timer
systemctl start tradebotd-digest.timer tradebotd-digest-weekly.timer

if ! token_set; then
    systemctl enable --quiet tradebotd.service
    fill_in
    exit 0
fi

# --- 6. legacy pollers go before the service comes ------------------------------------------
# The env file is read as data by tradebotd itself, never sourced as shell.
legacy=${LEGACY_SCRIPTS:-$(env_value "$CONF/tradebotd.env" LEGACY_SCRIPTS)}
scripts=()
for script in $legacy; do scripts+=(--script "$script"); done
"$VENV/bin/tradebotd" legacy-scan --stop --env-file "$CONF/tradebotd.env" "${scripts[@]}"

since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl enable --quiet tradebotd.service
systemctl restart tradebotd.service
SERVICE_STOPPED=0
marker=$(start_marker "$CONF/tradebotd.env")
# A node of a cluster ([ha]) that finds another node leading stands by: a good start too.
standby=": standing by"
journal() { journalctl -u tradebotd.service --since "$since" --no-pager -q -o cat; }
for _ in $(seq 60); do
    journal | grep -qF -e "$marker" -e "$standby" && break
    sleep 0.5
done
if ! journal | grep -qF -e "$marker" -e "$standby"; then
    systemctl --no-pager status tradebotd.service || true
    die "tradebotd did not log \"$marker\" within 30 s"
fi
# A free lease is taken within a second of standing by: then it polls, and is watched.
sleep 1
if ! journal | grep -qF "$marker" && journal | grep -qF "$standby"; then
    status=$(systemctl show -p StatusText --value tradebotd.service)
    say "tradebotd started as a cluster node: $status (journalctl -u tradebotd)"
    exit 0
fi
case "$marker" in
    Polling*)
        # Watch a little longer: another poller somewhere would show as a 409 by now.
        sleep "${OBSERVE_SECONDS:-5}"
        conflicts=$(journal | conflict_lines)
        if [ -n "$conflicts" ]; then
            printf '%s\n' "$conflicts" >&2
            die "tradebotd sees 409 Conflict: another poller still uses this token (see above)"
        fi
        say "tradebotd is polling, no 409 in ${OBSERVE_SECONDS:-5} s (journalctl -u tradebotd)" ;;
    *) say "tradebotd started: $marker (journalctl -u tradebotd)" ;;
esac
