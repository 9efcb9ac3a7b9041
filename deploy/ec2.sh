#!/usr/bin/env bash
# deploy/ec2.sh: the seed's "proper test" on EC2 with the AWS CLI.
#
#   ec2.sh up [--agents K] [--source URL | --deb URL] [--ssh-cidr CIDR] ...
#   ec2.sh status
#   ec2.sh down
#
# `up` makes a stack: a target host, K agent hosts and a coordinator host
# (c5.large, dedicated tenancy, the newest Ubuntu 24.04 AMI), three security
# groups that admit only what is needed, and user data that installs
# fleetbench, makes the CURVE keys on the hosts and starts the services. Then
# it exchanges the public keys (console output -> tags -> instance metadata,
# see deploy/README.md) and prints the exact coordinator command. Every
# resource carries the tag fleetbench:stack=PREFIX, which is how `status`
# and `down` find exactly what `up` made, and nothing else.
# --dry-run prints every AWS call instead of making it.
set -euo pipefail

PROG=ec2.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATE=$SCRIPT_DIR/cloud-init/fleetbench-host.sh
UBUNTU_OWNER=099720109477 # Canonical
UBUNTU_NAME='ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'
MANAGED_BY=deploy/ec2.sh
export AWS_PAGER="" # AWS CLI v2: never a pager

usage() {
    cat <<EOF
Usage: $PROG up|status|down [OPTIONS]

Commands:
  up       make the stack, install fleetbench, exchange keys, print the
           coordinator command (waits for the hosts unless --no-wait)
  status   show the stack; finish the key exchange if it is still pending
  down     terminate the stack's instances, delete its security groups

Options:
  --region R             AWS region (default: \$AWS_REGION, \$AWS_DEFAULT_REGION,
                         the CLI's configured region, else us-east-1)
  --profile P            AWS CLI profile
  --prefix TAG           stack name: tag fleetbench:stack=TAG, names TAG-* (default
                         fleetbench; lower-case letters, digits, '-', at most 32)
  --agents K             agent hosts (default 1, at most 50)
  --instance-type T      agent and target hosts (default c5.large)
  --coordinator-type T   coordinator host (default c5.large)
  --tenancy T            dedicated (default, as the seed) or default
  --key-name NAME        EC2 key pair for SSH (default: none)
  --ssh-cidr CIDR        admit SSH (tcp 22) from CIDR, e.g. 203.0.113.7/32
                         (default: none, no SSH at all)
  --subnet ID            subnet (default: a default subnet of the default VPC in
                         an availability zone that offers the instance type)
  --source URL[#REF]     build fleetbench on the hosts from a git URL (REF: a
                         branch, tag or commit) or a .tar.gz URL
  --deb URL              install this fleetbench .deb instead (built on Ubuntu 24.04)
  --target-port P        (default 8080)
  --agent-port P         (default 5555)
  --matrix SPEC          --matrix of the printed coordinator command (default all)
  --timeout SEC          up: how long to wait for the hosts (default 1800)
  --no-wait              up: return once the instances are launched; run
                         \`$PROG status\` later to finish the key exchange
  --dry-run              print every AWS call instead of making it
  -h, --help             this text

Environment: AWS_ENDPOINT_URL_EC2 or AWS_ENDPOINT_URL, when set, is passed to
every call as --endpoint-url (what newer AWS CLIs do themselves).

Exit codes: 0 success (up/status: the stack is ready); 1 usage, configuration
or AWS error; 3 up/status: the stack exists but is not ready yet (hosts still
installing, or keys not yet exchanged: run status again); 4 status: no such stack.
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

# ---- options -------------------------------------------------------------------

COMMAND=${1:-}
case $COMMAND in
    up | status | down) shift ;;
    -h | --help) usage; exit 0 ;;
    "") usage >&2; exit 1 ;;
    *) die "unknown command '$COMMAND' (up, status or down; --help)" ;;
esac

REGION="" PROFILE="" PREFIX=fleetbench AGENTS=1 INSTANCE_TYPE=c5.large
COORD_TYPE=c5.large TENANCY=dedicated KEY_NAME="" SSH_CIDR="" SUBNET="" SOURCE=""
DEB="" TARGET_PORT=8080 AGENT_PORT=5555 MATRIX=all TIMEOUT=1800 WAIT=1 DRY_RUN=0
POLL=${FB_EC2_POLL:-15}

need_arg() { [[ $# -ge 2 && -n $2 && $2 != --* ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --region) need_arg "$@"; REGION=$2; shift 2 ;;
        --profile) need_arg "$@"; PROFILE=$2; shift 2 ;;
        --prefix) need_arg "$@"; PREFIX=$2; shift 2 ;;
        --agents) need_arg "$@"; AGENTS=$2; shift 2 ;;
        --instance-type) need_arg "$@"; INSTANCE_TYPE=$2; shift 2 ;;
        --coordinator-type) need_arg "$@"; COORD_TYPE=$2; shift 2 ;;
        --tenancy) need_arg "$@"; TENANCY=$2; shift 2 ;;
        --key-name) need_arg "$@"; KEY_NAME=$2; shift 2 ;;
        --ssh-cidr) need_arg "$@"; SSH_CIDR=$2; shift 2 ;;
        --subnet) need_arg "$@"; SUBNET=$2; shift 2 ;;
        --source) need_arg "$@"; SOURCE=$2; shift 2 ;;
        --deb) need_arg "$@"; DEB=$2; shift 2 ;;
        --target-port) need_arg "$@"; TARGET_PORT=$2; shift 2 ;;
        --agent-port) need_arg "$@"; AGENT_PORT=$2; shift 2 ;;
        --matrix) need_arg "$@"; MATRIX=$2; shift 2 ;;
        --timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
        --no-wait) WAIT=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (--help)" ;;
    esac
done

matches() { [[ $1 =~ $2 ]]; }
is_port() { matches "$1" '^[0-9]{1,5}$' && (($1 >= 1 && $1 <= 65535)); }

matches "$PREFIX" '^[a-z][a-z0-9-]{0,31}$' ||
    die "--prefix: lower-case letters, digits and '-', starting with a letter, at most 32: '$PREFIX'"
if ! matches "$AGENTS" '^[0-9]+$' || ((AGENTS < 1 || AGENTS > 50)); then
    die "--agents: a number from 1 to 50, got '$AGENTS'"
fi
matches "$INSTANCE_TYPE" '^[a-z0-9-]+\.[a-z0-9]+$' || die "--instance-type: not an instance type: '$INSTANCE_TYPE'"
matches "$COORD_TYPE" '^[a-z0-9-]+\.[a-z0-9]+$' || die "--coordinator-type: not an instance type: '$COORD_TYPE'"
[[ $TENANCY == dedicated || $TENANCY == default ]] || die "--tenancy: dedicated or default, got '$TENANCY'"
is_port "$TARGET_PORT" || die "--target-port: not a port: '$TARGET_PORT'"
is_port "$AGENT_PORT" || die "--agent-port: not a port: '$AGENT_PORT'"
matches "$TIMEOUT" '^[0-9]+$' || die "--timeout: seconds, got '$TIMEOUT'"
matches "$POLL" '^[0-9]+$' || die "FB_EC2_POLL: seconds, got '$POLL'"
if [[ -n $SSH_CIDR ]]; then
    matches "$SSH_CIDR" '^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$' ||
        die "--ssh-cidr: want an IPv4 CIDR such as 203.0.113.7/32, got '$SSH_CIDR'"
    [[ $SSH_CIDR == 0.0.0.0/0 ]] && note "warning: --ssh-cidr 0.0.0.0/0 opens SSH to the whole Internet"
fi
[[ -z $KEY_NAME ]] || matches "$KEY_NAME" '^[[:print:]]{1,255}$' || die "--key-name: not a key pair name"
[[ -z $SUBNET ]] || matches "$SUBNET" '^subnet-[0-9a-f]+$' || die "--subnet: want subnet-..., got '$SUBNET'"
[[ -n $SOURCE && -n $DEB ]] && die "--source and --deb: give one of them"
[[ -z $SOURCE ]] || matches "$SOURCE" '^(https?|git|ssh)://[^[:space:]]+$|^git@[^[:space:]]+$' ||
    die "--source: want a git URL or a .tar.gz URL, got '$SOURCE'"
[[ -z $DEB ]] || matches "$DEB" '^https?://[^[:space:]]+\.deb$' ||
    die "--deb: want an http(s) URL of a .deb (a local file cannot reach the hosts), got '$DEB'"
if [[ $COMMAND == up && -z $SOURCE && -z $DEB ]]; then
    ((DRY_RUN)) || die "up: say how the hosts get fleetbench: --source GIT-OR-TARBALL-URL or --deb URL"
    note "no --source or --deb: the plan shows a placeholder (up needs one of them)"
    SOURCE="<--source URL>"
fi
if ((!DRY_RUN)); then
    command -v aws >/dev/null 2>&1 || die "the AWS CLI (aws) is not on PATH"
fi
[[ -f $TEMPLATE ]] || die "missing $TEMPLATE"

if [[ -z $REGION ]]; then
    REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
fi
if [[ -z $REGION ]] && ((!DRY_RUN)); then
    REGION=$(aws ${PROFILE:+--profile "$PROFILE"} configure get region 2>/dev/null || true)
fi
REGION=${REGION:-us-east-1}
matches "$REGION" '^[a-z]{2}(-[a-z]+)+-[0-9]+$' || die "--region: not a region: '$REGION'"

# ---- AWS calls -----------------------------------------------------------------

exec 3>&1 # the plan of a dry run goes here, even from inside $(...)

# Words quoted for a shell only where needed, so a printed call can be pasted.
shquote() {
    local w out=()
    for w in "$@"; do
        if matches "$w" '^[A-Za-z0-9_./:,=@%+-]+$'; then
            out+=("$w")
        else
            out+=("'${w//\'/\'\\\'\'}'")
        fi
    done
    echo "${out[*]}"
}

AWS_BASE=(aws)
[[ -n $PROFILE ]] && AWS_BASE+=(--profile "$PROFILE")
# An endpoint of EC2's API other than AWS's (a test's stand-in, a private
# endpoint): AWS CLI 2.13 and later read these variables themselves; passing
# them on makes older ones (Debian 12's 2.9) go to the same place.
ENDPOINT=${AWS_ENDPOINT_URL_EC2:-${AWS_ENDPOINT_URL:-}}
[[ -n $ENDPOINT ]] && AWS_BASE+=(--endpoint-url "$ENDPOINT")
AWS_BASE+=(--region "$REGION" --output text)

# aws_q PLACEHOLDER ARGS...: runs `aws ARGS` and prints its output; in a dry
# run prints the call (to the plan) and PLACEHOLDER (to the caller).
aws_q() {
    local placeholder=$1
    shift
    if ((DRY_RUN)); then
        shquote "${AWS_BASE[@]}" "$@" >&3
        [[ -z $placeholder ]] || printf '%s\n' "$placeholder"
        return 0
    fi
    local out
    if ! out=$("${AWS_BASE[@]}" "$@"); then
        note "failed: $(shquote aws "$@")"
        return 1
    fi
    [[ $out == None ]] && out=""
    [[ -z $out ]] || printf '%s\n' "$out"
}

aws_do() { aws_q "" "$@" >/dev/null; }

json_str() { # a JSON string (the values here have no control characters)
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

# tags_json KEY VALUE ...: [{"Key":..,"Value":..},...]
tags_json() {
    local out="" sep=""
    while [[ $# -ge 2 ]]; do
        out+="$sep{\"Key\":$(json_str "$1"),\"Value\":$(json_str "$2")}"
        sep=,
        shift 2
    done
    echo "[$out]"
}


tag_spec() { # tag_spec RESOURCE-TYPE... -- ROLE
    local types=() role spec="" sep="" t
    while [[ $1 != -- ]]; do types+=("$1"); shift; done
    role=$2
    # The tags every resource of the stack carries.
    local tags
    tags=$(tags_json "fleetbench:stack" "$PREFIX" "fleetbench:managed-by" "$MANAGED_BY" \
        "fleetbench:role" "$role" "Name" "$PREFIX-$role")
    for t in "${types[@]}"; do
        spec+="$sep{\"ResourceType\":\"$t\",\"Tags\":$tags}"
        sep=,
    done
    echo "[$spec]"
}

STACK_FILTERS=(--filters "Name=tag:fleetbench:stack,Values=$PREFIX"
    "Name=tag:fleetbench:managed-by,Values=$MANAGED_BY")
LIVE_STATES="Name=instance-state-name,Values=pending,running,stopping,stopped"

# One row per instance of the stack (tab-separated, "None" for nothing):
# id state role private-ip public-ip own-pubkey coordinator-key-tag agent-tag-keys
INSTANCE_QUERY="Reservations[].Instances[].[InstanceId, State.Name, \
Tags[?Key=='fleetbench:role'] | [0].Value, PrivateIpAddress, PublicIpAddress, \
Tags[?Key=='fleetbench:pubkey'] | [0].Value, \
Tags[?Key=='fleetbench:coordinator-key'] | [0].Value, \
join(' ', Tags[?starts_with(Key, 'fleetbench:agent:')].Key) || 'none']"

describe_stack() { # describe_stack PLACEHOLDER: the rows of the live instances
    aws_q "$1" ec2 describe-instances "${STACK_FILTERS[@]}" "$LIVE_STATES" \
        --query "$INSTANCE_QUERY"
}

# Arrays of the stack's instances, from describe_stack's rows.
load_instances() {
    IDS=() STATES=() ROLES=() PRIV=() PUB=() PUBKEY=() CKEY=() AKEYS=()
    local id st role priv pub pk ck ak
    while IFS=$'\t' read -r id st role priv pub pk ck ak; do
        [[ -n $id ]] || continue
        IDS+=("$id") STATES+=("$st") ROLES+=("$role") PRIV+=("$priv") PUB+=("$pub")
        PUBKEY+=("$pk") CKEY+=("$ck") AKEYS+=("$ak")
    done <<<"$1"
}

role_index() { # role_index ROLE: the indexes of the instances of ROLE
    local i
    for i in "${!IDS[@]}"; do [[ ${ROLES[$i]} == "$1" ]] && echo "$i"; done
    return 0
}

# ---- user data ---------------------------------------------------------------------

USERDATA_DIR=""
# render_user_data ROLE TARGET: the path of the rendered user data of ROLE.
render_user_data() {
    local role=$1 target=$2 out params
    out=$USERDATA_DIR/$role.sh
    params=$(printf 'FB_ROLE=%q FB_SOURCE=%q FB_DEB=%q FB_TARGET=%q\n' \
        "$role" "$SOURCE" "$DEB" "$target"
    printf 'FB_TARGET_PORT=%q FB_AGENT_PORT=%q FB_AGENTS=%q FB_LOGIN_USER=ubuntu' \
        "$TARGET_PORT" "$AGENT_PORT" "$AGENTS")
    awk -v params="$params" '$0 == "# FB_PARAMS" { print params; next } { print }' \
        "$TEMPLATE" >"$out"
    (($(wc -c <"$out") <= 16384)) || die "user data of the $role is over EC2's 16 KiB"
    echo "$out"
}

# ---- key exchange ------------------------------------------------------------------

# console_lines ID ROLE: our marker lines in the instance's console output
# (a dry run pretends the host is ready and shows its key as <pubkey-ID>).
console_lines() {
    aws_q "fleetbench-ec2: pubkey $2 <pubkey-of-${1//[<>]/}>
fleetbench-ec2: state ready" ec2 get-console-output --instance-id "$1" --latest --query Output |
        tr -d '\r' | sed -n 's/^.*fleetbench-ec2: //p' || true
}

# One pass of the exchange over the loaded instances: read each host's
# console (state and public key), tag what is new. Sets READY (0/1) and
# HOST_STATE[i]. Idempotent: what is already tagged is not tagged again.
HOST_STATE=()
exchange_pass() {
    local i lines key state coord="" cpub=""
    HOST_STATE=()
    READY=1
    for i in "${!IDS[@]}"; do
        [[ ${STATES[$i]} == running ]] || { HOST_STATE[i]=${STATES[$i]}; READY=0; continue; }
        lines=$(console_lines "${IDS[$i]}" "${ROLES[$i]}")
        state=$(sed -n 's/^state //p' <<<"$lines" | tail -n 1)
        HOST_STATE[i]=${state:-booting}
        [[ $state == ready ]] || READY=0
        if [[ ${ROLES[$i]} != target && ${PUBKEY[$i]} == None ]]; then
            key=$(sed -n "s/^pubkey ${ROLES[$i]} \\([^ ]*\\)\$/\\1/p" <<<"$lines" | tail -n 1)
            if ((${#key} == 40)) || [[ $DRY_RUN == 1 && $key == "<"* ]]; then
                aws_do ec2 create-tags --resources "${IDS[$i]}" \
                    --tags "$(tags_json fleetbench:pubkey "$key")"
                PUBKEY[i]=$key
            fi
        fi
        if [[ ${ROLES[$i]} == coordinator ]]; then coord=$i cpub=${PUBKEY[$i]}; fi
    done
    [[ -n $coord ]] || { READY=0; return 0; }
    # The coordinator's key to the agents that lack it.
    local lacking=()
    if [[ $cpub != None ]]; then
        for i in $(role_index agent); do
            [[ ${CKEY[$i]} == "$cpub" ]] || lacking+=("${IDS[$i]}")
        done
        if ((${#lacking[@]} > 0)); then
            aws_do ec2 create-tags --resources "${lacking[@]}" \
                --tags "$(tags_json fleetbench:coordinator-key "$cpub")"
            for i in $(role_index agent); do CKEY[i]=$cpub; done
        fi
    else
        READY=0
    fi
    # The agents' addresses and keys to the coordinator.
    local tags=()
    for i in $(role_index agent); do
        if [[ ${PUBKEY[$i]} == None ]]; then READY=0; continue; fi
        [[ " ${AKEYS[$coord]} " == *" fleetbench:agent:${IDS[$i]} "* ]] && continue
        tags+=("fleetbench:agent:${IDS[$i]}" "${PRIV[$i]}:$AGENT_PORT ${PUBKEY[$i]}")
    done
    if ((${#tags[@]} > 0)); then
        aws_do ec2 create-tags --resources "${IDS[$coord]}" --tags "$(tags_json "${tags[@]}")"
        for ((i = 0; i < ${#tags[@]}; i += 2)); do AKEYS[coord]+=" ${tags[$i]}"; done
    fi
    return 0
}

coordinator_command() {
    local agents="" i target=""
    for i in $(role_index agent); do agents+=${agents:+,}${PRIV[$i]}:$AGENT_PORT; done
    for i in $(role_index target); do target=${PRIV[$i]}:$TARGET_PORT; done
    shquote coordinator --agents "$agents" --target "$target" \
        --key /etc/fleetbench/coordinator.key --known-agents /etc/fleetbench/known_agents \
        --matrix "$MATRIX"
}

print_coordinator_command() {
    local i pub=""
    for i in $(role_index coordinator); do pub=${PUB[$i]}; done
    echo
    echo "Run the experiment on the coordinator host${pub:+ ($pub)}:"
    echo "  $(coordinator_command)"
    if [[ -n $SSH_CIDR$KEY_NAME && -n $pub && $pub != None ]]; then
        echo "e.g. ssh -t ubuntu@$pub $(shquote "$(coordinator_command)")"
    fi
}

print_table() {
    local i
    printf '%-12s %-20s %-9s %-15s %-15s %s\n' ROLE INSTANCE STATE PRIVATE-IP PUBLIC-IP HOST
    for role in target agent coordinator; do
        for i in $(role_index "$role"); do
            printf '%-12s %-20s %-9s %-15s %-15s %s\n' "$role" "${IDS[$i]}" "${STATES[$i]}" \
                "${PRIV[$i]}" "${PUB[$i]}" "${HOST_STATE[$i]:-?}"
        done
    done
}

# ---- commands ------------------------------------------------------------------------

STACK_MADE=0
cmd_up() {
    local mode="" placement=(--placement "Tenancy=$TENANCY")
    ((DRY_RUN)) && mode=" (dry run: no AWS call is made; <...> stands for what AWS would answer)"
    cat >&3 <<EOF
$PROG: plan for stack '$PREFIX' in $REGION$mode
  target        1 x $INSTANCE_TYPE, tenancy $TENANCY, Ubuntu 24.04 (newest $UBUNTU_NAME of $UBUNTU_OWNER); fleetbench-target-server on tcp $TARGET_PORT
  agents        $AGENTS x $INSTANCE_TYPE, tenancy $TENANCY, same AMI; fleetbench-agent on tcp $AGENT_PORT (CURVE keys, --allow-target the target)
  coordinator   1 x $COORD_TYPE, tenancy $TENANCY, same AMI
  security      $PREFIX-target: tcp $TARGET_PORT from $PREFIX-agent only; $PREFIX-agent: tcp $AGENT_PORT from $PREFIX-coordinator only; $PREFIX-coordinator: nothing in
                ssh (tcp 22): ${SSH_CIDR:-none}; key pair: ${KEY_NAME:-none}; egress: open (packages)
  fleetbench    ${DEB:+from the .deb $DEB}${SOURCE:+built from $SOURCE}
  tags          fleetbench:stack=$PREFIX, fleetbench:managed-by=$MANAGED_BY, fleetbench:role=ROLE, Name=$PREFIX-ROLE on every instance, volume and security group
EOF
    ((DRY_RUN)) && echo >&3 && echo "AWS calls:" >&3

    # 0. No stack of that name yet (down would not tell two apart).
    local existing
    existing=$(describe_stack "")
    [[ -z $existing ]] || die "a stack '$PREFIX' already exists in $REGION ($PROG status --prefix $PREFIX; $PROG down --prefix $PREFIX)"
    existing=$(aws_q "" ec2 describe-security-groups "${STACK_FILTERS[@]}" --query 'SecurityGroups[].GroupId')
    [[ -z $existing ]] || die "security groups of a stack '$PREFIX' are left in $REGION ($existing): $PROG down --prefix $PREFIX"

    # 1. The AMI: the newest Ubuntu 24.04 LTS of Canonical.
    local ami ami_name
    read -r ami ami_name < <(aws_q "<ami-ubuntu-24.04>	<name>" ec2 describe-images \
        --owners "$UBUNTU_OWNER" \
        --filters "Name=name,Values=$UBUNTU_NAME" Name=state,Values=available Name=architecture,Values=x86_64 \
        --query 'sort_by(Images, &CreationDate)[-1].[ImageId, Name]') || true
    [[ $ami == ami-* || $ami == "<ami-"* ]] || die "no Ubuntu 24.04 AMI found in $REGION"
    ((DRY_RUN)) || note "AMI $ami ($ami_name)"

    # 2. Where: a subnet (and so a VPC and an availability zone).
    local vpc az subnet=$SUBNET
    if [[ -n $subnet ]]; then
        read -r vpc az < <(aws_q "<vpc-id>	<az>" ec2 describe-subnets --subnet-ids "$subnet" \
            --query 'Subnets[0].[VpcId, AvailabilityZone]') || true
        [[ -n ${vpc:-} ]] || die "subnet $subnet not found in $REGION"
    else
        local zones rows z s v
        zones=$(aws_q "<az>" ec2 describe-instance-type-offerings --location-type availability-zone \
            --filters "Name=instance-type,Values=$INSTANCE_TYPE" --query 'InstanceTypeOfferings[].Location' |
            tr '\t' '\n')
        rows=$(aws_q "<az>	<subnet-id>	<vpc-id>" ec2 describe-subnets \
            --filters Name=default-for-az,Values=true --query 'Subnets[].[AvailabilityZone, SubnetId, VpcId]' |
            sort)
        while IFS=$'\t' read -r z s v; do
            if grep -qxF -- "$z" <<<"$zones"; then subnet=$s vpc=$v az=$z; break; fi
        done <<<"$rows"
        [[ -n $subnet ]] || die "no default subnet in $REGION is in a zone offering $INSTANCE_TYPE: pass --subnet"
    fi
    ((DRY_RUN)) || note "subnet $subnet ($az, $vpc)"

    # From here on, a failure removes what was made (by its tags).
    STACK_MADE=1
    USERDATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fleetbench-ec2.XXXXXX")

    # 3. Security groups: each role its own, rules naming groups, not addresses.
    local sg_target sg_agent sg_coord role
    for role in target agent coordinator; do
        local sg
        sg=$(aws_q "<sg-$role>" ec2 create-security-group --group-name "$PREFIX-$role" \
            --description "fleetbench $role ($PREFIX)" --vpc-id "$vpc" \
            --tag-specifications "$(tag_spec security-group -- "$role")" --query GroupId)
        case $role in
            target) sg_target=$sg ;;
            agent) sg_agent=$sg ;;
            coordinator) sg_coord=$sg ;;
        esac
    done
    aws_do ec2 authorize-security-group-ingress --group-id "$sg_target" --ip-permissions \
        "[{\"IpProtocol\":\"tcp\",\"FromPort\":$TARGET_PORT,\"ToPort\":$TARGET_PORT,\"UserIdGroupPairs\":[{\"GroupId\":\"$sg_agent\",\"Description\":\"fleetbench agents\"}]}]"
    aws_do ec2 authorize-security-group-ingress --group-id "$sg_agent" --ip-permissions \
        "[{\"IpProtocol\":\"tcp\",\"FromPort\":$AGENT_PORT,\"ToPort\":$AGENT_PORT,\"UserIdGroupPairs\":[{\"GroupId\":\"$sg_coord\",\"Description\":\"fleetbench coordinator\"}]}]"
    if [[ -n $SSH_CIDR ]]; then
        for sg in "$sg_target" "$sg_agent" "$sg_coord"; do
            aws_do ec2 authorize-security-group-ingress --group-id "$sg" --ip-permissions \
                "[{\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,\"IpRanges\":[{\"CidrIp\":\"$SSH_CIDR\",\"Description\":\"fleetbench ssh\"}]}]"
        done
    fi

    # 4. Instances: the target first (the agents' user data names its address).
    local common=(--image-id "$ami" --subnet-id "$subnet" "${placement[@]}"
        --metadata-options "HttpEndpoint=enabled,HttpTokens=required,InstanceMetadataTags=enabled"
        --query 'Instances[].[InstanceId, PrivateIpAddress]')
    [[ -n $KEY_NAME ]] && common+=(--key-name "$KEY_NAME")
    local rows target_id target_ip ids=()
    rows=$(aws_q "<i-target>	<target-ip>" ec2 run-instances "${common[@]}" \
        --instance-type "$INSTANCE_TYPE" --count 1 --security-group-ids "$sg_target" \
        --tag-specifications "$(tag_spec instance volume -- target)" \
        --user-data "file://$(render_user_data target "")")
    read -r target_id target_ip <<<"$rows"
    [[ -n ${target_ip:-} ]] || die "run-instances gave no target instance"
    ids+=("$target_id")
    local ud
    ud=$(render_user_data agent "$target_ip:$TARGET_PORT")
    local placeholder="" i
    for ((i = 1; i <= AGENTS; i++)); do placeholder+="<i-agent$i>	<agent$i-ip>"$'\n'; done
    rows=$(aws_q "${placeholder%$'\n'}" ec2 run-instances "${common[@]}" \
        --instance-type "$INSTANCE_TYPE" --count "$AGENTS" --security-group-ids "$sg_agent" \
        --tag-specifications "$(tag_spec instance volume -- agent)" --user-data "file://$ud")
    local n=0 id
    while read -r id _; do [[ -n $id ]] && ids+=("$id") && n=$((n + 1)); done <<<"$rows"
    ((n == AGENTS)) || die "run-instances started $n agent(s), not $AGENTS"
    rows=$(aws_q "<i-coordinator>	<coordinator-ip>" ec2 run-instances "${common[@]}" \
        --instance-type "$COORD_TYPE" --count 1 --security-group-ids "$sg_coord" \
        --tag-specifications "$(tag_spec instance volume -- coordinator)" \
        --user-data "file://$(render_user_data coordinator "$target_ip:$TARGET_PORT")")
    read -r id _ <<<"$rows"
    [[ -n ${id:-} ]] || die "run-instances gave no coordinator instance"
    ids+=("$id")
    STACK_MADE=2 # launched: a later failure leaves the stack (status/down)

    if ((DRY_RUN)); then
        echo "User data (rendered): $USERDATA_DIR/{target,agent,coordinator}.sh" >&3
    else
        rm -rf "$USERDATA_DIR"
    fi
    if ((!WAIT && !DRY_RUN)); then
        note "launched ${ids[*]}; \`$PROG status --prefix $PREFIX --region $REGION\` finishes the key exchange"
        load_instances "$(describe_stack "")"
        print_coordinator_command
        return 3
    fi

    # 5. Wait: running, then the key exchange until every host is ready.
    ((DRY_RUN)) || note "waiting for the instances to run"
    aws_do ec2 wait instance-running --instance-ids "${ids[@]}"
    ((DRY_RUN)) || note "waiting for the hosts to install fleetbench and exchange keys (up to $TIMEOUT s)"
    local deadline=$((SECONDS + TIMEOUT)) placeholder_rows t
    t=$'\t'
    placeholder_rows="<i-target>${t}running${t}target${t}<target-ip>${t}<target-public-ip>${t}None${t}None${t}none"
    for ((i = 1; i <= AGENTS; i++)); do
        placeholder_rows+=$'\n'"<i-agent$i>${t}running${t}agent${t}<agent$i-ip>${t}<agent$i-public-ip>${t}None${t}None${t}none"
    done
    placeholder_rows+=$'\n'"<i-coordinator>${t}running${t}coordinator${t}<coordinator-ip>${t}<coordinator-public-ip>${t}None${t}None${t}none"
    while :; do
        load_instances "$(describe_stack "$placeholder_rows")"
        exchange_pass
        ((READY || DRY_RUN || SECONDS >= deadline)) && break
        sleep "$POLL"
    done
    if ((DRY_RUN)); then
        echo "(get-console-output and create-tags are repeated every $POLL s until every host is ready)" >&3
        print_table >&3
        print_coordinator_command >&3
        return 0
    fi
    print_table
    print_coordinator_command
    if ((!READY)); then
        note "not every host is ready after $TIMEOUT s; \`$PROG status --prefix $PREFIX --region $REGION\` shows where they are (and finishes the key exchange)"
        return 3
    fi
}

cmd_status() {
    load_instances "$(describe_stack "")"
    local groups
    groups=$(aws_q "" ec2 describe-security-groups "${STACK_FILTERS[@]}" \
        --query 'SecurityGroups[].[GroupId, GroupName]')
    if ((${#IDS[@]} == 0)); then
        echo "$PROG: no instances of stack '$PREFIX' in $REGION"
        [[ -z $groups ]] || echo "security groups left: $(tr '\t\n' ' ,' <<<"$groups") ($PROG down removes them)"
        ((DRY_RUN)) && return 0
        return 4
    fi
    exchange_pass
    echo "stack '$PREFIX' in $REGION"
    print_table
    local gid gname list=""
    while IFS=$'\t' read -r gid gname; do
        [[ -n $gid ]] && list+="${list:+, }$gid ($gname)"
    done <<<"$groups"
    echo "security groups: $list"
    print_coordinator_command
    if ((!READY)); then
        echo
        echo "not ready yet: hosts are still installing, or keys are still being exchanged (run status again)"
        return 3
    fi
}

# Removes the stack's instances and security groups: only what has the
# stack's tags, found afresh (so it also cleans up after a failed up).
remove_stack() {
    local ids
    ids=$(aws_q "<i-target> <i-agent1> <i-coordinator>" ec2 describe-instances "${STACK_FILTERS[@]}" \
        "Name=instance-state-name,Values=pending,running,stopping,stopped,shutting-down" \
        --query 'Reservations[].Instances[].InstanceId' | tr '\t\n' '  ')
    read -r -a ids <<<"$ids"
    if ((${#ids[@]} > 0)); then
        ((DRY_RUN)) || note "terminating ${ids[*]}"
        aws_do ec2 terminate-instances --instance-ids "${ids[@]}" --query 'TerminatingInstances[].InstanceId'
        aws_do ec2 wait instance-terminated --instance-ids "${ids[@]}"
    fi
    # Groups: target, agent, coordinator: each one's rules name only the next,
    # so in this order none is still referenced when deleted.
    local rows gid name role order=() tries
    rows=$(aws_q "<sg-target>	target
<sg-agent>	agent
<sg-coordinator>	coordinator" ec2 describe-security-groups "${STACK_FILTERS[@]}" \
        --query "SecurityGroups[].[GroupId, Tags[?Key=='fleetbench:role'] | [0].Value]")
    for role in target agent coordinator other; do
        while IFS=$'\t' read -r gid name; do
            [[ -n $gid ]] || continue
            if [[ $name == "$role" ]] || { [[ $role == other ]] &&
                [[ $name != target && $name != agent && $name != coordinator ]]; }; then
                order+=("$gid")
            fi
        done <<<"$rows"
    done
    for gid in "${order[@]+"${order[@]}"}"; do
        ((DRY_RUN)) || note "deleting security group $gid"
        # The network interfaces of terminated instances may linger a little.
        for ((tries = 1; ; tries++)); do
            if ((DRY_RUN)) || aws_do ec2 delete-security-group --group-id "$gid" 2>/dev/null; then
                ((DRY_RUN)) && aws_do ec2 delete-security-group --group-id "$gid"
                break
            fi
            ((tries < 20)) || die "could not delete security group $gid; run $PROG down again"
            sleep "$POLL"
        done
    done
    REMOVED="${#ids[@]} instance(s), ${#order[@]} security group(s)"
}

cmd_down() {
    ((DRY_RUN)) && echo "$PROG: removing stack '$PREFIX' in $REGION (dry run: no AWS call is made)" >&3 &&
        echo "AWS calls:" >&3
    remove_stack
    ((DRY_RUN)) || echo "$PROG: stack '$PREFIX' in $REGION removed: $REMOVED"
}

# A failed up removes what it made before the instances were launched; after
# that the stack stays for status and down (the hosts may be fine).
on_exit() {
    local rc=$?
    if [[ $COMMAND == up ]] && ((rc != 0 && rc != 3 && !DRY_RUN)); then
        if ((STACK_MADE == 1)); then
            note "up failed; removing what it made"
            (remove_stack) ||
                note "could not remove everything: run $PROG down --prefix $PREFIX --region $REGION"
        elif ((STACK_MADE == 2)); then
            note "up failed after launching the instances; they are left running:" \
                "$PROG status --prefix $PREFIX --region $REGION (or down)"
        fi
    fi
    [[ -z $USERDATA_DIR || $DRY_RUN == 1 ]] || rm -rf "$USERDATA_DIR"
}
trap on_exit EXIT

IDS=() STATES=() ROLES=() PRIV=() PUB=() PUBKEY=() CKEY=() AKEYS=() READY=0 REMOVED=""
case $COMMAND in
    up) cmd_up ;;
    status) cmd_status ;;
    down) cmd_down ;;
esac
