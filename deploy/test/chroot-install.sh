#!/bin/sh
# The install test on a clean Debian bookworm root (slow: a few minutes; needs root and the network
# to the Debian and PyPI registries). Builds the root with debootstrap (cached), then, inside it:
#   1. deploy/install.sh on the clean system (packages, user, venv, config, broker, units)
#   2. deploy/install.sh again: changes nothing (idempotent)
#   3. the farm's configuration edited (the simulator's farm), deploy/install.sh: services enabled
#   4. systemd-analyze verify of the installed units
#   5. in a private network namespace: mosquitto and `ikb-agent run` started by hand (no systemd as
#      PID 1 in a chroot), the simulator publishing with the agent's broker account, an anonymous
#      client refused, `ikb-agent backup`, `ikb-agent status` (must report healthy), restore refused
#      while the agent runs, restore after it stopped, status healthy again after a restart
#   6. deploy/uninstall.sh: the code goes, the data stays
# Usage: sudo deploy/test/chroot-install.sh [--fresh] [--keep]   (transcript on standard output)
#   --fresh  rebuild the cached Debian root      --keep  leave the root for inspection
set -eu

CACHE=/var/tmp/ikb-agent-chroot
FRESH=no
KEEP=no
for arg in "$@"; do
    case "$arg" in
        --fresh) FRESH=yes ;;
        --keep) KEEP=yes ;;
        *) echo "usage: $0 [--fresh] [--keep]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
R="$CACHE/root"

step() { printf '\n==== %s\n' "$*"; }
# Show a command, then run it inside the root; its output is the transcript.
in_root() {
    printf '# %s\n' "$*"
    chroot "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LANG=C.UTF-8 \
        ${CA:+PIP_CERT=$CA} /bin/sh -c "$*"
}

unmount_all() {
    for m in run dev/pts dev sys proc; do
        if mountpoint -q "$R/$m"; then umount -l "$R/$m"; fi
    done
}
cleanup() {
    unmount_all
    if [ "$KEEP" = no ]; then rm -rf "$R"; fi
}
trap cleanup EXIT

dpkg -s debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null

step "a clean Debian bookworm root ($(dpkg --print-architecture))"
if [ "$FRESH" = yes ] || [ ! -f "$CACHE/base.tar" ]; then
    rm -rf "$CACHE/build"
    mkdir -p "$CACHE"
    # minbase plus an init system, as on a Raspberry Pi OS Lite or a Debian server
    debootstrap --variant=minbase --include=systemd-sysv bookworm "$CACHE/build" http://deb.debian.org/debian \
        >"$CACHE/debootstrap.log" 2>&1
    tar -C "$CACHE/build" -cf "$CACHE/base.tar" .
    rm -rf "$CACHE/build"
fi
unmount_all
rm -rf "$R"
mkdir -p "$R"
tar -C "$R" -xf "$CACHE/base.tar"
mount -t proc proc "$R/proc"
mount -t sysfs sys "$R/sys"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# Where the network to PyPI passes a TLS-inspecting proxy, the host's pip trusts its CA (PIP_CERT):
# so does pip in the root. A farm's Pi needs nothing of the kind.
CA=""
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
    mkdir -p "$R/etc/ssl"
    cp "$PIP_CERT" "$R/etc/ssl/host-pip-ca.crt"
    CA=/etc/ssl/host-pip-ca.crt
fi
# Packages must not start services in a chroot (they would listen on the host's network).
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod +x "$R/usr/sbin/policy-rc.d"
in_root "cat /etc/debian_version; id ikb 2>&1; ls /opt /etc/mosquitto 2>&1; command -v python3 mosquitto || true"

step "the checkout, copied in as a farmer would download it"
mkdir -p "$R/root/ikb-agent"
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./demo-data --exclude='*.egg-info' \
    --exclude=__pycache__ -cf - . | tar -C "$R/root/ikb-agent" -xf -
echo "copied $(find "$R/root/ikb-agent" -type f | wc -l) files"

step "1. install on the clean system"
# (apt's progress lines left out of the transcript; the full log is /root/install-1.log in the root)
in_root "/root/ikb-agent/deploy/install.sh >/root/install-1.log 2>&1; rc=\$?; grep -v -E \
    '^(Get|Selecting|Preparing|Unpacking|Setting up|Processing|Fetched|Reading|Building|Need to get|After this|debconf|Created symlink|Adding|invoke-rc.d|  |\\(Reading)' \
    /root/install-1.log; echo \"install.sh exit code \$rc\"; exit \$rc"
in_root "id ikb; stat -c '%U:%G %a %n' /etc/ikb-agent/ikb-agent.toml /var/lib/ikb-agent /etc/mosquitto/ikb-agent.passwd /etc/mosquitto/ikb-agent.acl"
in_root "/opt/ikb-agent/venv/bin/pip list --format=freeze | sed 's/==.*//' | tr '\\n' ' '; echo"
in_root "if /opt/ikb-agent/venv/bin/pip show pytest playwright hypothesis >/dev/null 2>&1; then echo 'TEST TOOLS IN THE VENV'; exit 1; else echo 'no test tools in the venv'; fi"
in_root "grep -A2 '^\\[mqtt\\]' /etc/ikb-agent/ikb-agent.toml | sed 's/password = .*/password = (generated)/'; cut -d: -f1 /etc/mosquitto/ikb-agent.passwd"

step "2. install again: nothing of the farm's changes"
in_root "sha256sum /etc/ikb-agent/ikb-agent.toml /etc/mosquitto/ikb-agent.passwd /etc/mosquitto/ikb-agent.acl > /root/before.sha"
in_root "/root/ikb-agent/deploy/install.sh"
in_root "sha256sum -c /root/before.sha"

step "3. the farm set up (the simulator's farm, with the broker account the installer made), install again"
in_root "cd /tmp && /opt/ikb-agent/venv/bin/ikb-agent simulate --write-config farm.toml --db /var/lib/ikb-agent/ikb-agent.db >/dev/null \
    && awk '/^\\[/ { s = \$0 } s == \"[mqtt]\" && /^(username|password) =/' /etc/ikb-agent/ikb-agent.toml > creds \
    && awk 'FNR == NR { creds = creds \$0 \"\\n\"; next } { print } \$0 == \"[mqtt]\" { printf \"%s\", creds }' creds farm.toml > /etc/ikb-agent/ikb-agent.toml \
    && printf '\\n[backup]\\nkeep = 3\\n' >> /etc/ikb-agent/ikb-agent.toml && rm creds farm.toml && echo 'configuration written'"
in_root "/root/ikb-agent/deploy/install.sh"
in_root "ls /etc/systemd/system/multi-user.target.wants/ | grep ikb"

step "4. systemd-analyze verify"
in_root "systemd-analyze verify /etc/systemd/system/ikb-agent.service /etc/systemd/system/ikb-agent-web.service && echo 'units verify: no findings'"

step "5. broker and agent started by hand (a private network namespace: loopback only)"
cat > "$R/root/run-agent.sh" <<'EOF'
#!/bin/sh
# Start what systemd would start: mosquitto, then the agent as its user with its runtime directory.
set -eu
install -d -o mosquitto -g mosquitto /run/mosquitto
mosquitto -c /etc/mosquitto/mosquitto.conf -d
sleep 1
install -d -o ikb -g ikb -m 0755 /run/ikb-agent
cd /var/lib/ikb-agent
runuser -u ikb -- env IKB_CONFIG=/etc/ikb-agent/ikb-agent.toml /opt/ikb-agent/venv/bin/ikb-agent run \
    --log-level warning >>/var/lib/ikb-agent/agent.log 2>&1 &
echo $! > /run/agent.pid
sleep 1
echo "mosquitto and the agent (process $(cat /run/agent.pid)) started"
EOF
cat > "$R/root/session.sh" <<'EOF'
#!/bin/sh
set -u
show() { printf '# %s\n' "$*"; sh -c "$*"; }
wait_healthy() {
    i=0
    until ikb-agent status >/dev/null 2>&1 || [ $i -ge 60 ]; do sleep 1; i=$((i + 1)); done
}
sh /root/run-agent.sh
show "ikb-agent simulate --backfill 0.5 --speed 0 --days 0.5 2>&1 | tail -1"
cat > /tmp/anonymous.py <<'PYTHON'
import time
import paho.mqtt.client as mqtt
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
seen = []
c.on_connect = lambda client, userdata, flags, reason, properties: seen.append(str(reason))
c.connect("127.0.0.1", 1883)
c.loop_start()
time.sleep(1.5)
c.loop_stop()
print("anonymous client:", seen[0] if seen else "no answer")
PYTHON
show "/opt/ikb-agent/venv/bin/python /tmp/anonymous.py"
wait_healthy
show "ikb-agent backup"
sleep 6
show "ikb-agent status; echo \"exit code \$?\""
show "ikb-agent status --format json | /opt/ikb-agent/venv/bin/python -c 'import json, sys; s = json.load(sys.stdin); print({k: s[k] for k in (\"healthy\", \"problems\")}, s[\"broker\"], s[\"watchdog\"][\"progress\"], len(s[\"sensors\"]), \"sensors\", s[\"backup\"][\"copies\"], \"copies\")'"
backup="$(ls /var/lib/ikb-agent/backups/*.db | tail -1)"
show "ikb-agent restore $backup; echo \"exit code \$?\""
show "kill -TERM \$(cat /run/agent.pid); sleep 3; ikb-agent status >/dev/null; echo \"status exit code \$? (agent stopped)\""
show "ikb-agent restore $backup; echo \"exit code \$?\""
show "ls /var/lib/ikb-agent"
show "install -d -o ikb -g ikb /run/ikb-agent; cd /var/lib/ikb-agent && runuser -u ikb -- env IKB_CONFIG=/etc/ikb-agent/ikb-agent.toml /opt/ikb-agent/venv/bin/ikb-agent run --log-level warning >>/var/lib/ikb-agent/agent.log 2>&1 & echo \$! > /run/agent.pid; echo 'agent started again'"
wait_healthy
show "ikb-agent status > /tmp/status.txt; rc=\$?; head -12 /tmp/status.txt; echo \"exit code \$rc\""
kill -TERM "$(cat /run/agent.pid)"
sleep 2
kill "$(cat /run/mosquitto/mosquitto.pid)" 2>/dev/null || true
sleep 1
echo "agent log (warnings and errors):"
cat /var/lib/ikb-agent/agent.log
EOF
unshare --net sh -c "ip link set lo up && chroot '$R' /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LANG=C.UTF-8 /bin/sh /root/session.sh"

step "6. uninstall: code and services go, the farm's data stays"
in_root "/root/ikb-agent/deploy/uninstall.sh"
in_root "ls /opt; ls /var/lib/ikb-agent; ls /etc/ikb-agent; test ! -e /usr/local/bin/ikb-agent && echo 'command removed'"
step "done"
