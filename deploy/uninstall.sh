#!/bin/sh
# Remove ikb-agent, as root:
#   sudo deploy/uninstall.sh            stop and remove the services, the code and the ikb-agent command;
#                                       keep the farm's data, configuration and broker accounts
#   sudo deploy/uninstall.sh --purge    also delete /var/lib/ikb-agent (database: logbooks that the scheme
#                                       wants kept 2-3 years, A9.1/E9.4), /etc/ikb-agent, the broker's
#                                       password and ACL files and the user ikb. Asks first on a terminal.
# Debian packages (python3, mosquitto) stay: other software may use them.
# Options: --root DIR (act under DIR, for tests), --yes (no question with --purge).
set -eu

ROOT=""
PURGE=no
YES=no
while [ $# -gt 0 ]; do
    case "$1" in
        --purge) PURGE=yes; shift ;;
        --yes) YES=yes; shift ;;
        --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
        --root=*) ROOT="${1#--root=}"; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
    echo "uninstall.sh: run as root: sudo $0" >&2
    exit 1
fi
say() { printf 'uninstall: %s\n' "$*"; }

if [ "$PURGE" = yes ] && [ "$YES" = no ] && [ -t 0 ]; then
    printf 'Delete the database with every logbook in %s/var/lib/ikb-agent? Type "verwijder" to go on: ' "$ROOT"
    read -r answer
    [ "$answer" = verwijder ] || { say "nothing deleted"; exit 1; }
fi

units="ikb-agent.service ikb-agent-web.service"
if [ -n "$ROOT" ]; then
    # shellcheck disable=SC2086 # one word per unit
    systemctl --root="$ROOT" disable --quiet $units 2>/dev/null || true
elif [ -d /run/systemd/system ]; then
    # shellcheck disable=SC2086
    systemctl disable --now --quiet $units 2>/dev/null || true
else
    # shellcheck disable=SC2086
    systemctl disable --quiet $units 2>/dev/null || true
fi
for unit in $units; do
    rm -f "$ROOT/etc/systemd/system/$unit"
done
rm -rf "$ROOT/etc/systemd/system/ikb-agent.service.d"
rm -rf "$ROOT/opt/ikb-agent"
rm -f "$ROOT/usr/local/bin/ikb-agent"
# The broker's files: named in the installed conf.d file, else in the one beside this script.
conf="$ROOT/etc/mosquitto/conf.d/ikb-agent.conf"
named="$conf"
[ -f "$named" ] || named="$(dirname "$0")/mosquitto.conf"
pwfile="$(awk '$1 == "password_file" { print $2; exit }' "$named" 2>/dev/null || true)"
aclfile="$(awk '$1 == "acl_file" { print $2; exit }' "$named" 2>/dev/null || true)"
if [ -f "$conf" ]; then
    rm -f "$conf"
    if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
        systemctl restart mosquitto || true
    fi
fi
if [ "$PURGE" = yes ]; then
    for f in $pwfile $aclfile; do
        rm -f "$ROOT$f"
    done
fi
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
say "services, code and the ikb-agent command removed"

if [ "$PURGE" = yes ]; then
    rm -rf "$ROOT/var/lib/ikb-agent" "$ROOT/etc/ikb-agent" "$ROOT/run/ikb-agent"
    if [ -z "$ROOT" ] && getent passwd ikb >/dev/null; then
        userdel ikb
    fi
    say "data, configuration, broker accounts and the user ikb deleted"
else
    say "kept: $ROOT/var/lib/ikb-agent (database, backups), $ROOT/etc/ikb-agent (configuration)"
    say "      and the broker accounts; reinstall with deploy/install.sh, or delete them with --purge"
fi
