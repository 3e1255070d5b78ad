#!/bin/sh
# Install ikb-agent on a Raspberry Pi (Raspberry Pi OS bookworm) or Debian 12, as root:
#   sudo deploy/install.sh
# It installs the Debian packages, copies this checkout to /opt/ikb-agent with its own
# virtual environment, creates the `ikb` user, puts the example configuration in
# /etc/ikb-agent/ikb-agent.toml (only when none is there), configures mosquitto for zero
# loss, and enables the two services. Re-running it upgrades in place; data in
# /var/lib/ikb-agent and the configuration are never touched.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"

DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    python3 python3-venv mosquitto fonts-dejavu-core
id ikb >/dev/null 2>&1 || useradd --system --home-dir /var/lib/ikb-agent --shell /usr/sbin/nologin ikb
install -d -o ikb -g ikb -m 0750 /var/lib/ikb-agent
install -d -m 0755 /etc/ikb-agent /opt/ikb-agent

# The code: a copy, not the checkout, so a `git pull` in the checkout changes nothing until re-installed.
tar -C "$src" --exclude=.venv --exclude=.git --exclude=demo-data -cf - . | tar -C /opt/ikb-agent -xf -
[ -x /opt/ikb-agent/.venv/bin/python ] || python3 -m venv /opt/ikb-agent/.venv
/opt/ikb-agent/.venv/bin/python -m pip install -q --upgrade pip
/opt/ikb-agent/.venv/bin/python -m pip install -q /opt/ikb-agent

if [ ! -f /etc/ikb-agent/ikb-agent.toml ]; then
    sed 's#^path = "ikb-agent.db".*#path = "/var/lib/ikb-agent/ikb-agent.db"#' \
        "$src/deploy/ikb-agent.example.toml" > /etc/ikb-agent/ikb-agent.toml
    chmod 0640 /etc/ikb-agent/ikb-agent.toml
    chgrp ikb /etc/ikb-agent/ikb-agent.toml
    echo "edit /etc/ikb-agent/ikb-agent.toml (farm, houses, sensors, alert channels), then re-run $0"
fi
install -m 0644 "$src/deploy/mosquitto.conf" /etc/mosquitto/conf.d/ikb-agent.conf
install -m 0644 "$src/deploy/ikb-agent.service" "$src/deploy/ikb-agent-web.service" /etc/systemd/system/
systemctl daemon-reload
systemctl restart mosquitto

# Refuse to start services on a configuration that does not validate (exit 2 names the key).
if runuser -u ikb -- env IKB_CONFIG=/etc/ikb-agent/ikb-agent.toml /opt/ikb-agent/.venv/bin/ikb-agent rules >/dev/null \
   && runuser -u ikb -- env IKB_CONFIG=/etc/ikb-agent/ikb-agent.toml /opt/ikb-agent/.venv/bin/ikb-agent score >/dev/null; then
    systemctl enable --now ikb-agent ikb-agent-web
    echo "running. Create the farmer's account:"
    echo "  runuser -u ikb -- env IKB_CONFIG=/etc/ikb-agent/ikb-agent.toml /opt/ikb-agent/.venv/bin/ikb-agent user add NAME --role farmer"
    echo "then test the alarm route: ... ikb-agent alert test --monthly"
else
    echo "the configuration is not valid yet; fix it and re-run $0" >&2
    exit 2
fi
