#!/bin/bash
# fleetbench host setup: the EC2 user data of every host deploy/ec2.sh makes
# (cloud-init runs it once, as root, at first boot). ec2.sh puts the
# parameters below in place of the FB_PARAMS line; nothing else is rendered.
#
#   FB_ROLE         target | agent | coordinator
#   FB_SOURCE       git URL (URL#REF for a branch, tag or commit) or .tar.gz URL
#   FB_DEB          URL of a fleetbench .deb (instead of FB_SOURCE)
#   FB_TARGET       HOST:PORT of the target server (agents: --allow-target)
#   FB_TARGET_PORT  port of the target server
#   FB_AGENT_PORT   port of the agents
#   FB_AGENTS       number of agents (the coordinator waits for their keys)
#   FB_LOGIN_USER   who runs the coordinator (owns its secret key)
#
# Keys never leave the host that made them, and nothing but public keys
# travels (deploy/README.md, "Keys"):
#   * agents and the coordinator make their key pair here and print the
#     public key on the serial console: `fleetbench-ec2: pubkey ROLE KEY`;
#   * ec2.sh reads it with `aws ec2 get-console-output` (only principals of
#     the AWS account can) and writes it in instance tags;
#   * the hosts read those tags from the instance metadata (IMDSv2, instance
#     tags enabled at launch): an agent the coordinator's key
#     (fleetbench:coordinator-key), the coordinator the agents'
#     (fleetbench:agent:INSTANCE-ID = "IP:PORT KEY").
# Progress goes to the console too (`fleetbench-ec2: state ...`), where
# `ec2.sh status` reads it; the full log is /var/log/fleetbench-setup.log.
#
# Run again as `fleetbench-setup keys`, it copies the keys from the tags once
# more (after `ec2.sh status` has tagged a late agent, say).
# FB_PARAMS
set -euo pipefail
umask 022

MODE=${1:-setup}
# (FB_ETC, FB_IMDS and FB_SYSTEMCTL exist for tests/integration/test_deploy.py.)
ETC=${FB_ETC:-/etc/fleetbench}
IMDS=${FB_IMDS:-http://169.254.169.254/latest}
SYSTEMCTL=${FB_SYSTEMCTL:-systemctl}
LOG=/var/log/fleetbench-setup.log

console() {
    local line="fleetbench-ec2: $*" dev
    echo "$line"
    for dev in /dev/ttyS0 /dev/console; do
        if [[ -w $dev ]] && { echo "$line" >"$dev"; } 2>/dev/null; then break; fi
    done
}

fail() {
    console "state failed: $* (see $LOG)"
    exit 1
}

# ---- instance metadata (IMDSv2) ----------------------------------------------------

imds() { # imds PATH: the metadata at PATH, or failure
    local token
    token=$(curl -fsS -m 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" \
        "$IMDS/api/token") || return 1
    curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/$1"
}

tag() { imds "meta-data/tags/instance/$1"; }
tag_keys() { imds "meta-data/tags/instance"; }

is_key() { # a Z85 CURVE key: 40 characters of the Z85 alphabet
    local re='^[]0-9A-Za-z.:+=^!/*?&<>(){}@%$#[-]{40}$'
    [[ $1 =~ $re ]]
}
is_hostport() {
    local re='^[0-9]{1,3}([.][0-9]{1,3}){3}:[0-9]{1,5}$'
    [[ $1 =~ $re ]]
}

# ---- keys ------------------------------------------------------------------------

# The coordinator's public key from our tag into the agent's authorized_keys;
# restarts the agent when it changed. 0 once there is a key.
sync_agent_keys() {
    local key
    key=$(tag fleetbench:coordinator-key 2>/dev/null) || return 1
    is_key "$key" || { echo "ignoring a malformed fleetbench:coordinator-key tag"; return 1; }
    if [[ ! -f $ETC/authorized_keys ]] || [[ $(cat "$ETC/authorized_keys") != "$key" ]]; then
        echo "$key" >"$ETC/authorized_keys.new"
        mv "$ETC/authorized_keys.new" "$ETC/authorized_keys"
        $SYSTEMCTL enable fleetbench-agent.service
        $SYSTEMCTL restart fleetbench-agent.service
    fi
}

# The agents' addresses and keys from our tags into known_agents. 0 once
# there are FB_AGENTS of them.
sync_coordinator_keys() {
    local k v n=0 tmp
    tmp=$(mktemp "$ETC/known_agents.XXXXXX")
    while read -r k || [[ -n $k ]]; do # (IMDS lists keys without a last newline)
        [[ $k == fleetbench:agent:* ]] || continue
        v=$(tag "$k") || continue
        if is_hostport "${v%% *}" && is_key "${v#* }"; then
            echo "$v" >>"$tmp"
            n=$((n + 1))
        else
            echo "ignoring the malformed tag $k"
        fi
    done < <(tag_keys 2>/dev/null || true)
    chmod 644 "$tmp"
    sort -o "$tmp" "$tmp"
    mv "$tmp" "$ETC/known_agents"
    ((n >= FB_AGENTS))
}

wait_for() { # wait_for WHAT FUNCTION: every 10 s, for 6 hours at most
    local i
    console "state waiting for $1"
    for ((i = 0; i < 2160; i++)); do
        "$2" && return 0
        sleep 10
    done
    fail "no $1 after 6 hours"
}

if [[ $MODE == keys ]]; then
    case $FB_ROLE in
        agent) sync_agent_keys ;;
        coordinator) sync_coordinator_keys ;;
        *) echo "fleetbench-setup keys: nothing to do on the $FB_ROLE" ;;
    esac
    exit
fi

# ---- setup -----------------------------------------------------------------------

exec >>"$LOG" 2>&1
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR
cp "$0" /usr/local/sbin/fleetbench-setup
chmod 700 /usr/local/sbin/fleetbench-setup
console "state installing fleetbench"

export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -y -o DPkg::Lock::Timeout=600 "$@"; }
apt_get update
if [[ -n $FB_DEB ]]; then
    apt_get install --no-install-recommends curl ca-certificates
    curl -fsSL --retry 5 -o /tmp/fleetbench.deb "$FB_DEB"
    apt_get install /tmp/fleetbench.deb
else
    # The build dependencies (scripts/install-deps.sh), and what cpack needs.
    apt_get install --no-install-recommends build-essential cmake pkg-config git curl \
        ca-certificates python3 file dpkg-dev libuv1-dev libcurl4-openssl-dev \
        libzmq3-dev libmsgpack-dev libhttp-parser-dev libjansson-dev libcmocka-dev
    src=/usr/local/src/fleetbench
    rm -rf "$src"
    case $FB_SOURCE in
        *.tar.gz | *.tgz)
            mkdir -p "$src"
            curl -fsSL --retry 5 "$FB_SOURCE" | tar -xz -C "$src" --strip-components=1
            ;;
        *)
            git clone --quiet "${FB_SOURCE%%#*}" "$src"
            if [[ $FB_SOURCE == *#* ]]; then git -C "$src" checkout --quiet "${FB_SOURCE#*#}"; fi
            ;;
    esac
    cmake -S "$src" -B "$src/build"
    cmake --build "$src/build" -j "$(nproc)"
    (cd "$src/build" && cpack -G DEB)
    apt_get install "$src"/build/fleetbench_*.deb
fi
console "state installed $(agent --version 2>&1 | head -n 1)"
install -d -m 0755 "$ETC"

case $FB_ROLE in
    target)
        echo "TARGET_SERVER_OPTS=\"--host 0.0.0.0 --port $FB_TARGET_PORT\"" \
            >/etc/default/fleetbench-target-server
        systemctl enable fleetbench-target-server.service
        systemctl restart fleetbench-target-server.service
        for ((i = 0; i < 60; i++)); do
            curl -fsS -m 2 "http://127.0.0.1:$FB_TARGET_PORT/health" >/dev/null && break
            sleep 1
        done
        curl -fsS -m 2 "http://127.0.0.1:$FB_TARGET_PORT/health" >/dev/null ||
            fail "target-server does not answer on port $FB_TARGET_PORT"
        ;;
    agent)
        [[ -f $ETC/agent.key ]] || agent keygen "$ETC/agent"
        chown fleetbench:fleetbench "$ETC/agent.key"
        console "pubkey agent $(cat "$ETC/agent.pub")"
        echo "AGENT_OPTS=\"--listen 0.0.0.0:$FB_AGENT_PORT --key $ETC/agent.key" \
            "--authorized-keys $ETC/authorized_keys --allow-target $FB_TARGET\"" \
            >/etc/default/fleetbench-agent
        wait_for "the coordinator's key" sync_agent_keys
        for ((i = 0; i < 30; i++)); do
            systemctl is-active --quiet fleetbench-agent.service && break
            sleep 1
        done
        systemctl is-active --quiet fleetbench-agent.service || fail "fleetbench-agent is not running"
        ;;
    coordinator)
        if [[ ! -f $ETC/coordinator.key ]]; then coordinator keygen "$ETC/coordinator"; fi
        chown "$FB_LOGIN_USER:" "$ETC/coordinator.key"
        console "pubkey coordinator $(cat "$ETC/coordinator.pub")"
        wait_for "the keys of $FB_AGENTS agent(s)" sync_coordinator_keys
        ;;
    *) fail "unknown role '$FB_ROLE'" ;;
esac
console "state ready"
