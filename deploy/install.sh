#!/bin/sh
# Install or upgrade ikb-agent on Raspberry Pi OS / Debian 12 bookworm (arm64, armhf, amd64), as root:
#   sudo deploy/install.sh
# Running it again upgrades: the code and the units are replaced, everything of the farm's is kept
# (configuration, broker accounts, data). The agent migrates its database on start, after taking a
# checked copy of it. docs/INSTALL.md walks through it.
#
# What it does, each step only when needed:
#   packages  python3, python3-venv, mosquitto (apt)
#   user      the system user `ikb` that runs the agent
#   code      this checkout to /opt/ikb-agent/src, a venv with the runtime dependencies only in
#             /opt/ikb-agent/venv, the `ikb-agent` command in /usr/local/bin
#   config    /etc/ikb-agent/ikb-agent.toml from deploy/ikb-agent.example.toml, only when absent,
#             with the database in /var/lib/ikb-agent and new broker credentials in [mqtt]
#   broker    deploy/mosquitto.conf as /etc/mosquitto/conf.d/ikb-agent.conf; its password and ACL
#             files when absent; the agent's broker account when the password file lacks it
#   key       the farm key that signs audit packs (ikb-agent key init, as the agent's user)
#   units     ikb-agent.service and ikb-agent-web.service, and a drop-in that lets the agent write
#             its backup directory when [backup] directory lies elsewhere
#   systemctl enable and (re)start the services once the configuration is edited and valid
#
# Options (for tests and image builds):
#   --root DIR     install under DIR instead of / (nothing outside DIR is touched)
#   --skip LIST    comma-separated steps to leave out: packages,user,code,systemctl
set -eu
umask 022

ROOT=""
SKIP=""
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
        --root=*) ROOT="${1#--root=}"; shift ;;
        --skip) SKIP="${2:?--skip needs a list}"; shift 2 ;;
        --skip=*) SKIP="${1#--skip=}"; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root: sudo $0" >&2
    exit 1
fi
SRC="$(cd "$(dirname "$0")/.." && pwd)"

AGENT_USER=ikb
MQTT_USER=ikb-agent
PREFIX="$ROOT/opt/ikb-agent"
PY="$PREFIX/venv/bin/python"
ETC="$ROOT/etc/ikb-agent"
CONFIG="$ETC/ikb-agent.toml"
PRISTINE="$ETC/.ikb-agent.toml.sha256"  # the configuration as created: unedited means "not set up yet"
DATA="$ROOT/var/lib/ikb-agent"
UNITS="$ROOT/etc/systemd/system"
MOSQ="$ROOT/etc/mosquitto"

say() { printf 'install: %s\n' "$*"; }
skipped() { case ",$SKIP," in *",$1,"*) return 0 ;; esac; return 1; }
# chown only to accounts that exist (under --root the accounts of the target system may not)
own() {
    getent passwd "${1%%:*}" >/dev/null 2>&1 && getent group "${1#*:}" >/dev/null 2>&1 || return 0
    chown "$@"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
# the value of a top-level directive in a mosquitto configuration file
mosquitto_value() { awk -v key="$1" '$1 == key { print $2; exit }' "$2"; }

# ---------------------------------------------------------------- packages
if ! skipped packages; then
    missing=""
    for pkg in python3 python3-venv mosquitto ca-certificates fonts-dejavu-core; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        say "installing Debian packages:$missing"
        apt-get update -q
        # shellcheck disable=SC2086 # one word per package
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    fi
fi

# ---------------------------------------------------------------- user and directories
if ! skipped user && ! getent passwd "$AGENT_USER" >/dev/null; then
    say "creating the system user $AGENT_USER"
    useradd --system --user-group --home-dir /var/lib/ikb-agent --no-create-home \
        --shell /usr/sbin/nologin --comment "ikb-agent" "$AGENT_USER"
fi
install -d -m 0755 "$PREFIX" "$UNITS" "$ROOT/usr/local/bin"
install -d -m 0750 "$ETC" "$DATA"
own root:"$AGENT_USER" "$ETC"
own "$AGENT_USER:$AGENT_USER" "$DATA"

# ---------------------------------------------------------------- code
if ! skipped code; then
    say "installing the code in $PREFIX"
    rm -rf "$PREFIX/src.new"
    mkdir "$PREFIX/src.new"
    tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./demo-data --exclude=./tests \
        --exclude=./bench --exclude=./build --exclude='*.egg-info' --exclude=__pycache__ \
        --exclude=.ruff_cache -cf - . | tar -C "$PREFIX/src.new" -xf -
    rm -rf "$PREFIX/src"
    mv "$PREFIX/src.new" "$PREFIX/src"
    # Anything else in /opt/ikb-agent is from an older layout.
    find "$PREFIX" -mindepth 1 -maxdepth 1 ! -name src ! -name venv -exec rm -rf {} +
    [ -x "$PY" ] || python3 -m venv "$PREFIX/venv"
    # The package and its runtime dependencies only: no test extras in production.
    "$PY" -m pip install --no-cache-dir --quiet --upgrade "$PREFIX/src"
    rm -rf "$PREFIX/src/build"
fi
install -m 0755 "$SRC/deploy/ikb-agent-wrapper.sh" "$ROOT/usr/local/bin/ikb-agent"

# ---------------------------------------------------------------- configuration
created_config=no
if [ ! -f "$CONFIG" ]; then
    password="$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
    say "creating $CONFIG from the example (database in /var/lib/ikb-agent, new broker credentials)"
    # In [mqtt]: our credentials instead of the example's (commented) ones; in [storage]: the path.
    awk -v user="$MQTT_USER" -v password="$password" '
        /^\[/ { section = $0 }
        section == "[mqtt]" && /^[# ]*(username|password)[ ]*=/ { next }
        section == "[storage]" && /^path[ ]*=/ {
            print "path = \"/var/lib/ikb-agent/ikb-agent.db\""; next
        }
        { print }
        $0 == "[mqtt]" {
            print "username = \"" user "\"                 # created by install.sh; the broker knows it"
            print "password = \"" password "\""
        }
    ' "$SRC/deploy/ikb-agent.example.toml" > "$CONFIG.new"
    chmod 0640 "$CONFIG.new"
    own root:"$AGENT_USER" "$CONFIG.new"
    mv "$CONFIG.new" "$CONFIG"
    sha "$CONFIG" > "$PRISTINE"
    created_config=yes
else
    say "keeping $CONFIG"
fi
# Validate it, and read what the next steps need: the broker login and the backup directory.
config_ok=no
values=""
if [ -x "$PY" ]; then
    if values="$("$PY" - "$CONFIG" <<'PYTHON'
import sys
from agent.config import ConfigError, load_config
try:
    s = load_config(sys.argv[1])
except ConfigError as exc:
    sys.exit(f"install: configuration error: {exc}")
print(s.mqtt.username or "", s.mqtt.password or "", s.backup.directory or "", sep="\n")
PYTHON
)"; then
        config_ok=yes
    fi
fi
mqtt_user="$(printf '%s\n' "$values" | sed -n 1p)"
mqtt_password="$(printf '%s\n' "$values" | sed -n 2p)"
backup_dir="$(printf '%s\n' "$values" | sed -n 3p)"
edited=yes
if [ -f "$PRISTINE" ] && [ "$(sha "$CONFIG")" = "$(cat "$PRISTINE")" ]; then
    edited=no
fi

# ---------------------------------------------------------------- broker
install -d -m 0755 "$MOSQ/conf.d"
broker_changed=no
if ! cmp -s "$SRC/deploy/mosquitto.conf" "$MOSQ/conf.d/ikb-agent.conf"; then
    install -m 0644 "$SRC/deploy/mosquitto.conf" "$MOSQ/conf.d/ikb-agent.conf"
    broker_changed=yes
fi
pwfile="$(mosquitto_value password_file "$SRC/deploy/mosquitto.conf")"
aclfile="$(mosquitto_value acl_file "$SRC/deploy/mosquitto.conf")"
if [ -n "$aclfile" ] && [ ! -f "$ROOT$aclfile" ] && [ -f "$SRC/deploy/mosquitto.acl" ]; then
    say "creating $aclfile"
    install -m 0600 "$SRC/deploy/mosquitto.acl" "$ROOT$aclfile"
    own mosquitto:mosquitto "$ROOT$aclfile"
    broker_changed=yes
fi
if [ -n "$pwfile" ]; then
    if [ ! -f "$ROOT$pwfile" ]; then
        install -m 0600 /dev/null "$ROOT$pwfile"
    fi
    if [ -n "$mqtt_user" ] && [ -n "$mqtt_password" ]; then
        if ! grep -q "^$mqtt_user:" "$ROOT$pwfile"; then
            say "adding the broker account $mqtt_user to $pwfile"
            mosquitto_passwd -b "$ROOT$pwfile" "$mqtt_user" "$mqtt_password"
            broker_changed=yes
        elif [ "$created_config" = yes ]; then
            # A new configuration carries a new password; the old one belonged to a file that is gone.
            say "replacing the broker password of $mqtt_user (its configuration was created anew)"
            mosquitto_passwd -b "$ROOT$pwfile" "$mqtt_user" "$mqtt_password"
            broker_changed=yes
        else
            say "keeping the broker account $mqtt_user"
        fi
    elif [ "$config_ok" = yes ]; then
        say "WARNING: $CONFIG has no [mqtt] username/password, but the broker requires a login;"
        say "         add them there and to the broker: sudo mosquitto_passwd $pwfile NAME"
    fi
    chmod 0600 "$ROOT$pwfile"
    own mosquitto:mosquitto "$ROOT$pwfile"
fi

# ---------------------------------------------------------------- farm key
# The key that signs audit packs and chain heads (docs/UPSTREAM.md): created once, as the agent's
# user, beside the database; the nightly backup keeps a copy of it.
if [ -z "$ROOT" ] && [ "$config_ok" = yes ] && [ -x "$PREFIX/venv/bin/ikb-agent" ]; then
    if key="$(/usr/local/bin/ikb-agent key init 2>&1)"; then
        printf '%s\n' "$key" | sed 's/^/install: /'
    else
        say "WARNING: the farm key could not be made: $key"
    fi
fi

# ---------------------------------------------------------------- units
for unit in ikb-agent.service ikb-agent-web.service; do
    install -m 0644 "$SRC/deploy/$unit" "$UNITS/$unit"
done
# A backup directory outside the data directory (a USB stick) must be writable for the agent.
dropin="$UNITS/ikb-agent.service.d/backup-directory.conf"
case "$backup_dir" in
    ""|/var/lib/ikb-agent|/var/lib/ikb-agent/*) rm -f "$dropin" ;;
    *)
        install -d -m 0755 "$UNITS/ikb-agent.service.d"
        printf '# Written by install.sh from [backup] directory; re-run it after changing that key.\n[Service]\nReadWritePaths=-%s\n' \
            "$backup_dir" > "$dropin"
        ;;
esac

# ---------------------------------------------------------------- systemctl
if skipped systemctl; then
    say "units installed in $UNITS (systemctl skipped)"
elif [ "$config_ok" != yes ]; then
    say "the configuration $CONFIG is not valid (above); fix it and run $0 again"
    exit 2
elif [ "$edited" = no ]; then
    say "now edit $CONFIG (farm, houses, sensors, alert channels),"
    say "then run $0 again: it enables and starts ikb-agent and ikb-agent-web"
elif [ -n "$ROOT" ]; then
    systemctl --root="$ROOT" enable --quiet ikb-agent.service ikb-agent-web.service
    say "services enabled in $ROOT"
else
    systemctl enable --quiet ikb-agent.service ikb-agent-web.service
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        if [ "$broker_changed" = yes ]; then
            systemctl restart mosquitto
        fi
        systemctl restart ikb-agent.service ikb-agent-web.service
        say "services (re)started; their state:"
        tries=0
        until /usr/local/bin/ikb-agent status >/dev/null 2>&1 || [ $tries -ge 30 ]; do
            sleep 1
            tries=$((tries + 1))
        done
        /usr/local/bin/ikb-agent status || true
    else
        say "systemd is not running here: the services are enabled and start at the next boot"
    fi
    if [ "$created_config" = yes ] || [ ! -f "$DATA/ikb-agent.db" ]; then
        say "create the farmer's web account: sudo ikb-agent user add NAME --role farmer"
    fi
fi
