#!/bin/sh
# /usr/local/bin/ikb-agent, installed by deploy/install.sh: the CLI with the farm's configuration.
# Run by root (sudo ikb-agent status), it runs as the agent's own user, so every file it
# creates (a backup, a restored database) belongs to the agent and nothing ends up root-owned.
: "${IKB_CONFIG:=/etc/ikb-agent/ikb-agent.toml}"
export IKB_CONFIG
if [ "$(id -u)" -eq 0 ] && getent passwd ikb >/dev/null; then
    cd /var/lib/ikb-agent 2>/dev/null || cd /
    exec runuser -u ikb -- /opt/ikb-agent/venv/bin/ikb-agent "$@"
fi
exec /opt/ikb-agent/venv/bin/ikb-agent "$@"
