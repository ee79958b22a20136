#!/usr/bin/env bash
# Remove tradebotd: `make uninstall` (PURGE=1 also deletes settings and data).
# DESTDIR=/tmp/root removes from a directory tree only (no systemctl).
set -euo pipefail

PREFIX=${PREFIX:-/opt/tradebotd}
DESTDIR=${DESTDIR:-}
PURGE=${PURGE:-0}
UNITS="tradebotd.service tradebotd-digest.service tradebotd-digest.timer
       tradebotd-digest-weekly.service tradebotd-digest-weekly.timer"

if [ -z "$DESTDIR" ]; then
    [ "$(id -u)" = 0 ] || { echo "uninstall: run as root" >&2; exit 1; }
    # shellcheck disable=SC2086
    systemctl disable --now $UNITS 2>/dev/null || true
fi
for unit in $UNITS; do rm -f "$DESTDIR/etc/systemd/system/$unit"; done
rm -rf "$DESTDIR$PREFIX"
if [ -z "$DESTDIR" ]; then
    systemctl daemon-reload
    # Timer state (Persistent=true's last-run stamps) goes with the timers.
    rm -f /var/lib/systemd/timers/stamp-tradebotd-digest*.timer
    systemctl reset-failed 2>/dev/null || true
fi
if [ "$PURGE" = 1 ]; then
    rm -rf "$DESTDIR/etc/tradebotd" "$DESTDIR/var/lib/tradebotd"
    [ -z "$DESTDIR" ] && userdel tradebotd 2>/dev/null || true
    echo "uninstall: removed tradebotd, its settings and its data"
else
    echo "uninstall: removed tradebotd; kept /etc/tradebotd and /var/lib/tradebotd (PURGE=1 deletes them)"
fi
