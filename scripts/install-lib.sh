# Helpers for install.sh, sourced (and tested on their own by tests/deploy/test_install_lib.py).
#
# The token never reaches a command line: every function here that touches it uses bash
# builtins only (read, printf, case), which run inside the shell; an external command's
# arguments are visible to every local user in /proc/PID/cmdline.

# The value NAME has in an EnvironmentFile-style file, read as data: the file is never
# sourced (systemd accepts `ADMIN_IDS=1, 2`, which bash would run as a command `2`).
# The last assignment wins; surrounding blanks and one level of quotes are removed.
env_value() {
    local file=$1 name=$2 line value=""
    [ -f "$file" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        case "$line" in
            "$name="*) value=${line#"$name="} ;;
        esac
    done < "$file"
    value=${value%"${value##*[![:space:]]}"}
    case "$value" in
        \"*\") value=${value:1:${#value}-2} ;;
        \'*\') value=${value:1:${#value}-2} ;;
    esac
    printf '%s' "$value"
}

# TELEGRAM_BOT_TOKEN from, in order: the environment (already exported), the file named
# by TELEGRAM_BOT_TOKEN_FILE (first line), or a prompt on a terminal (not echoed).
read_token() {
    if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
        return 0
    fi
    if [ -n "${TELEGRAM_BOT_TOKEN_FILE:-}" ]; then
        [ -r "$TELEGRAM_BOT_TOKEN_FILE" ] || { echo "install: cannot read TELEGRAM_BOT_TOKEN_FILE ($TELEGRAM_BOT_TOKEN_FILE)" >&2; return 1; }
        IFS= read -r TELEGRAM_BOT_TOKEN < "$TELEGRAM_BOT_TOKEN_FILE" || true
        TELEGRAM_BOT_TOKEN=${TELEGRAM_BOT_TOKEN%$'\r'}
        return 0
    fi
    if [ -t 0 ]; then
        read -rsp "Telegram bot token (from @BotFather): " TELEGRAM_BOT_TOKEN
        echo
    fi
}

# The env file from the sample, with the token, admins and polling filled in: written
# line by line with printf (a builtin), never through sed's command line.
write_env_file() {
    local sample=$1 out=$2 line
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
            TELEGRAM_BOT_TOKEN=*) printf 'TELEGRAM_BOT_TOKEN=%s\n' "${TELEGRAM_BOT_TOKEN:-}" ;;
            ADMIN_IDS=*) printf 'ADMIN_IDS=%s\n' "${ADMIN_IDS:-}" ;;
            POLLING_ENABLED=*) printf 'POLLING_ENABLED=1\n' ;;
            *) printf '%s\n' "$line" ;;
        esac
    done < "$sample" > "$out"
    if [ -n "${TELEGRAM_API_URL:-}" ]; then
        printf 'TELEGRAM_API_URL=%s\n' "$TELEGRAM_API_URL" >> "$out"
    fi
}

# The journal line that proves a good start in the mode the env file asks for.
start_marker() {
    local file=$1
    if [ -n "$(env_value "$file" WEBHOOK_URL)" ]; then
        printf '%s' "webhook mode: Telegram delivers to "
    elif [ "$(env_value "$file" POLLING_ENABLED)" = 1 ]; then
        printf '%s' "Polling service started successfully"
    else
        printf '%s' "NOT polling (POLLING_ENABLED is not 1)"
    fi
}

# The daemon's own 409 lines among journal lines on stdin (`journalctl -o cat`): the
# conflict warnings and the foreign-poller error, never a PID or a bot name with 409.
conflict_lines() {
    grep -E '^(getUpdates: )?409 Conflict: |^getUpdates: still in conflict' || true
}

# Started again if the install fails after stopping a running service: an upgrade that
# breaks half-way must not leave the bot down. arm_restore before the stop; the caller
# sets SERVICE_STOPPED=1 after it and 0 once the service runs again.
SERVICE_WAS_ACTIVE=0
SERVICE_STOPPED=0
restore_service() {
    local status=$?
    if [ "$status" -ne 0 ] && [ "$SERVICE_STOPPED" = 1 ] && [ "$SERVICE_WAS_ACTIVE" = 1 ]; then
        echo "install: failed after stopping tradebotd: starting it again" >&2
        systemctl start tradebotd.service || echo "install: could not start tradebotd" >&2
    fi
    return "$status"
}
arm_restore() {
    if systemctl is-active --quiet tradebotd.service; then SERVICE_WAS_ACTIVE=1; fi
    trap restore_service EXIT
}
