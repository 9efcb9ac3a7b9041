"""Tests of deploy/: ec2.sh, local-cluster.sh, the systemd units, the .deb.

* ec2.sh runs against a stand-in `aws` (a Python script first on PATH) that
  records every call and plays a small EC2: instances, security groups, tags,
  console output. Its hosts behave like the cloud-init script: each prints a
  public key on its console, an agent turns ready once it is tagged with the
  coordinator's key, the coordinator once it is tagged with every agent's.
  Nothing reaches AWS: the real CLI is never on PATH first, the AWS_*
  variables are dummies and the instance metadata service is disabled.
* The host script's key sync (cloud-init/fleetbench-host.sh keys) runs
  against a stand-in instance metadata service on 127.0.0.x.
* local-cluster.sh starts a target and agents on 127.0.0.x (and, as root, in
  network namespaces), a coordinator run goes through them, `down` leaves
  no process.
* cpack builds the .deb from this build; its contents and control fields are
  checked, and it is unpacked into a throwaway root.
"""

import gzip
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ec2_api
import fbtest

SOURCE_DIR = os.environ.get("FB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(SOURCE_DIR, "deploy")
EC2 = os.path.join(DEPLOY, "ec2.sh")
CLUSTER = os.path.join(DEPLOY, "local-cluster.sh")
HOST_SCRIPT = os.path.join(DEPLOY, "cloud-init", "fleetbench-host.sh")
SOURCE_URL = "https://git.example.org/fleetbench.git#main"

# ---- the stand-in aws ---------------------------------------------------------------

FAKE_AWS = r'''#!/usr/bin/env python3
"""Stand-in for the AWS CLI: logs argv, plays EC2 from a JSON state file."""
import json, os, random, sys

LOG, STATE = os.environ["FAKE_AWS_LOG"], os.environ["FAKE_AWS_STATE"]
sys.path.insert(0, os.environ["FAKE_AWS_LIB"])
from ec2_api import Z85, console_text  # the same hosts as the EC2 API stand-in
argv = sys.argv[1:]
with open(LOG, "a") as f:
    f.write(json.dumps(argv) + "\n")

def die(msg, code=255):
    sys.stderr.write("\nAn error occurred (%s)\n" % msg)
    sys.exit(code)

glob = {}
rest = []
i = 0
while i < len(argv):
    if argv[i] in ("--region", "--output", "--profile"):
        glob[argv[i]] = argv[i + 1]; i += 2
    else:
        rest.append(argv[i]); i += 1
if rest[:3] == ["configure", "get", "region"]:
    sys.exit(1)
if rest[0] != "ec2":
    die("UnsupportedService: " + rest[0])
if glob.get("--output") != "text":
    die("the stand-in answers --output text only")
op, args = rest[1], rest[2:]

def opt(name, many=False):
    vals = []
    for j, a in enumerate(args):
        if a == name:
            k = j + 1
            while k < len(args) and not args[k].startswith("--"):
                vals.append(args[k]); k += 1
                if not many:
                    break
    return vals if many else (vals[0] if vals else None)

state = json.load(open(STATE))
fail = state.get("fail", {})  # op -> the n-th call of it fails
state.setdefault("calls", {})
state["calls"][op] = state["calls"].get(op, 0) + 1
if fail.get(op) == state["calls"][op]:
    json.dump(state, open(STATE, "w"))
    die("InsufficientInstanceCapacity: stand-in failure of " + op)

def newid(prefix):
    state["seq"] = state.get("seq", 0) + 1
    return "%s-%017x" % (prefix, 0xf00 + state["seq"])

def tags_of(spec_json, rtype):
    for spec in json.loads(spec_json):
        if spec["ResourceType"] == rtype:
            return {t["Key"]: t["Value"] for t in spec["Tags"]}
    return {}

def filters():
    out = []
    for f in opt("--filters", many=True):
        kv = dict(p.split("=", 1) for p in f.split(",", 1))
        out.append((kv["Name"], kv["Values"].split(",")))
    return out

def match(res, state_name=None):
    for name, values in filters():
        if name.startswith("tag:"):
            if res["tags"].get(name[4:]) not in values:
                return False
        elif name == "instance-state-name":
            if state_name not in values:
                return False
    return True

def text(rows):
    return "\n".join("\t".join("None" if v is None else str(v) for v in r) for r in rows)

out = ""
insts, groups = state["instances"], state["groups"]
if op == "describe-instances":
    q = opt("--query")
    rows = []
    for iid, x in insts.items():
        if not match(x, x["state"]):
            continue
        if "PrivateIpAddress" in q:
            t = x["tags"]
            ak = " ".join(k for k in t if k.startswith("fleetbench:agent:")) or "none"
            rows.append([iid, x["state"], t.get("fleetbench:role"), x["ip"], x.get("public"),
                         t.get("fleetbench:pubkey"), t.get("fleetbench:coordinator-key"), ak])
        else:
            rows.append([iid])
    out = text(rows) if "PrivateIpAddress" in q else "\t".join(r[0] for r in rows)
elif op == "describe-security-groups":
    q = opt("--query")
    sel = [(gid, g) for gid, g in groups.items() if match(g)]
    if q == "SecurityGroups[].GroupId":
        out = "\t".join(gid for gid, _ in sel)
    elif "GroupName" in q:
        out = text([gid, g["name"]] for gid, g in sel)
    else:
        out = text([gid, g["tags"].get("fleetbench:role")] for gid, g in sel)
elif op == "describe-images":
    out = "ami-0fb24noble0000001\tubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423"
elif op == "describe-instance-type-offerings":
    out = "us-east-1b\tus-east-1c"
elif op == "describe-subnets":
    out = text([["us-east-1a", "subnet-0aaa", "vpc-0default"], ["us-east-1b", "subnet-0bbb", "vpc-0default"]])
elif op == "create-security-group":
    gid = newid("sg")
    groups[gid] = {"name": opt("--group-name"), "vpc": opt("--vpc-id"), "rules": [],
                   "tags": tags_of(opt("--tag-specifications"), "security-group")}
    out = gid
elif op == "authorize-security-group-ingress":
    gid = opt("--group-id")
    if gid not in groups:
        die("InvalidGroup.NotFound")
    groups[gid]["rules"] += json.loads(opt("--ip-permissions"))
elif op == "run-instances":
    n = int(opt("--count"))
    ud = opt("--user-data")
    assert ud.startswith("file://"), ud
    rows = []
    for _ in range(n):
        iid = newid("i")
        state["ip"] = state.get("ip", 10) + 1
        insts[iid] = {"state": "pending", "ip": "172.31.9.%d" % state["ip"],
                      "public": "198.51.100.%d" % state["ip"],
                      "type": opt("--instance-type"), "placement": opt("--placement"),
                      "metadata": opt("--metadata-options"), "image": opt("--image-id"),
                      "subnet": opt("--subnet-id"), "groups": [opt("--security-group-ids")],
                      "key_name": opt("--key-name"),
                      "tags": tags_of(opt("--tag-specifications"), "instance"),
                      "volume_tags": tags_of(opt("--tag-specifications"), "volume"),
                      "user_data": open(ud[7:]).read(),
                      "pubkey": "".join(random.choice(Z85) for _ in range(40))}
        rows.append([iid, insts[iid]["ip"]])
    out = text(rows)
elif op == "wait":
    ids = opt("--instance-ids", many=True)
    for iid in ids:
        if iid not in insts:
            die("InvalidInstanceID.NotFound: " + iid)
        insts[iid]["state"] = {"instance-running": "running",
                               "instance-terminated": "terminated"}[args[0]]
elif op == "get-console-output":
    iid = opt("--instance-id")
    if "--latest" not in args:
        die("the stand-in wants --latest (Nitro)")
    out = console_text(state, insts[iid]) if insts[iid]["state"] == "running" else "None"
elif op == "create-tags":
    for iid in opt("--resources", many=True):
        target = insts.get(iid) or groups.get(iid)
        if target is None:
            die("InvalidID: " + iid)
        for t in json.loads(opt("--tags")):
            target["tags"][t["Key"]] = t["Value"]
elif op == "terminate-instances":
    for iid in opt("--instance-ids", many=True):
        insts[iid]["state"] = "shutting-down"
    out = "\t".join(opt("--instance-ids", many=True))
elif op == "delete-security-group":
    gid = opt("--group-id")
    if gid not in groups:
        die("InvalidGroup.NotFound")
    for other, g in groups.items():
        for rule in g["rules"]:
            if any(p.get("GroupId") == gid for p in rule.get("UserIdGroupPairs", [])):
                die("DependencyViolation: %s is referenced by %s" % (gid, other))
    for iid, x in insts.items():
        if gid in x["groups"] and x["state"] != "terminated":
            die("DependencyViolation: %s is used by %s" % (gid, iid))
    del groups[gid]
else:
    die("UnsupportedOperation: " + op)
json.dump(state, open(STATE, "w"), indent=1)
if out:
    print(out)
'''

# Resources that are not the stack's: down must leave them alone.
FOREIGN = {
    "instances": {
        "i-0other00000000001": {"state": "running", "ip": "172.31.1.5", "public": None,
                                "groups": ["sg-0other0001"], "pubkey": "x" * 40,
                                "tags": {"fleetbench:stack": "other",
                                         "fleetbench:managed-by": "deploy/ec2.sh",
                                         "fleetbench:role": "agent"}},
        "i-0untagged00000001": {"state": "running", "ip": "172.31.1.6", "public": None,
                                "groups": ["sg-0default01"], "pubkey": "y" * 40,
                                "tags": {"Name": "someone else's"}},
        "i-0lookalike0000001": {"state": "running", "ip": "172.31.1.7", "public": None,
                                "groups": ["sg-0default01"], "pubkey": "z" * 40,
                                "tags": {"fleetbench:stack": "fleetbench"}},  # not ours
    },
    "groups": {
        "sg-0other0001": {"name": "other-agent", "rules": [],
                          "tags": {"fleetbench:stack": "other",
                                   "fleetbench:managed-by": "deploy/ec2.sh",
                                   "fleetbench:role": "agent"}},
        "sg-0default01": {"name": "default", "rules": [], "tags": {}},
    },
}


class Ec2Case(unittest.TestCase):
    """A temp dir with the stand-in aws first on PATH and a fresh EC2 state."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fbdeploy-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        aws = os.path.join(bindir, "aws")
        with open(aws, "w") as f:
            f.write(FAKE_AWS.replace("#!/usr/bin/env python3", "#!" + sys.executable, 1))
        os.chmod(aws, 0o755)
        self.log = os.path.join(self.tmp, "aws.log")
        self.state_file = os.path.join(self.tmp, "ec2.json")
        self.write_state(json.loads(json.dumps(FOREIGN)))
        open(self.log, "w").close()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({
            "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
            "AWS_ACCESS_KEY_ID": "AKIAFLEETBENCHTEST00",
            "AWS_SECRET_ACCESS_KEY": "not-a-secret",
            "AWS_SESSION_TOKEN": "not-a-token",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.tmp, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "no-credentials"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "FAKE_AWS_LOG": self.log,
            "FAKE_AWS_STATE": self.state_file,
            "FAKE_AWS_LIB": os.path.dirname(os.path.abspath(__file__)),
            "FB_EC2_POLL": "0",
            "TMPDIR": self.tmp,
        })
        # The stand-in must be what runs as `aws`.
        found = shutil.which("aws", path=self.env["PATH"])
        self.assertEqual(found, aws)

    def write_state(self, st):
        st.setdefault("instances", {})
        st.setdefault("groups", {})
        with open(self.state_file, "w") as f:
            json.dump(st, f)

    def state(self):
        with open(self.state_file) as f:
            return json.load(f)

    def calls(self):
        """The stand-in's calls so far: lists of argv (global options removed)."""
        out = []
        with open(self.log) as f:
            for line in f:
                argv = json.loads(line)
                clean, i = [], 0
                while i < len(argv):
                    if argv[i] in ("--region", "--output", "--profile"):
                        i += 2
                    else:
                        clean.append(argv[i])
                        i += 1
                out.append(clean)
        return out

    def ops(self):
        return [c[1] for c in self.calls() if c and c[0] == "ec2"]

    def ec2(self, *args, timeout=120):
        r = subprocess.run([EC2, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout, r.stderr

    def stack(self, name="fleetbench"):
        st = self.state()
        insts = {i: x for i, x in st["instances"].items()
                 if x["tags"].get("fleetbench:stack") == name
                 and x["tags"].get("fleetbench:managed-by") == "deploy/ec2.sh"}
        groups = {g: x for g, x in st["groups"].items()
                  if x["tags"].get("fleetbench:stack") == name
                  and x["tags"].get("fleetbench:managed-by") == "deploy/ec2.sh"}
        return insts, groups


def opt_of(argv, name):
    """The value after `name` in argv (None if absent)."""
    return argv[argv.index(name) + 1] if name in argv else None


class TestEc2DryRun(Ec2Case):

    def aws_lines(self, out):
        return [shlex.split(line) for line in out.splitlines() if line.startswith("aws ")]

    def test_up_dry_run_prints_the_plan_and_calls_nothing(self):
        rc, out, err = self.ec2("up", "--dry-run", "--agents", "2", "--source", SOURCE_URL,
                                "--ssh-cidr", "203.0.113.7/32", "--key-name", "bench",
                                "--region", "eu-west-1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.calls(), [], "a dry run called aws")
        self.assertIn("dry run: no AWS call is made", out)
        calls = self.aws_lines(out)
        for argv in calls:
            self.assertEqual(argv[:5], ["aws", "--region", "eu-west-1", "--output", "text"], argv)
        ops = [a[6] for a in calls]
        self.assertEqual(ops[:5], ["describe-instances", "describe-security-groups",
                                   "describe-images", "describe-instance-type-offerings",
                                   "describe-subnets"])

        # The Ubuntu 24.04 lookup: Canonical's images, newest by CreationDate.
        images = calls[ops.index("describe-images")]
        self.assertEqual(opt_of(images, "--owners"), "099720109477")
        self.assertIn("Name=name,Values=ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
                      images)
        self.assertIn("sort_by(Images, &CreationDate)[-1]", opt_of(images, "--query"))

        # Three groups; the target admits its port from the agents' group only,
        # the agents theirs from the coordinator's only, SSH from the CIDR.
        created = [a for a in calls if a[6] == "create-security-group"]
        self.assertEqual([opt_of(a, "--group-name") for a in created],
                         ["fleetbench-target", "fleetbench-agent", "fleetbench-coordinator"])
        for a in created:
            spec = json.loads(opt_of(a, "--tag-specifications"))
            tags = {t["Key"]: t["Value"] for t in spec[0]["Tags"]}
            self.assertEqual(spec[0]["ResourceType"], "security-group")
            self.assertEqual(tags["fleetbench:stack"], "fleetbench")
        rules = [(opt_of(a, "--group-id"), json.loads(opt_of(a, "--ip-permissions"))[0])
                 for a in calls if a[6] == "authorize-security-group-ingress"]
        self.assertEqual(len(rules), 5)
        gid, rule = rules[0]
        self.assertEqual(gid, "<sg-target>")
        self.assertEqual((rule["FromPort"], rule["ToPort"]), (8080, 8080))
        self.assertEqual(rule["UserIdGroupPairs"][0]["GroupId"], "<sg-agent>")
        self.assertNotIn("IpRanges", rule)
        gid, rule = rules[1]
        self.assertEqual(gid, "<sg-agent>")
        self.assertEqual((rule["FromPort"], rule["ToPort"]), (5555, 5555))
        self.assertEqual(rule["UserIdGroupPairs"][0]["GroupId"], "<sg-coordinator>")
        self.assertNotIn("IpRanges", rule)
        self.assertEqual(sorted(g for g, _ in rules[2:]),
                         ["<sg-agent>", "<sg-coordinator>", "<sg-target>"])
        for _, rule in rules[2:]:
            self.assertEqual((rule["FromPort"], rule["IpRanges"][0]["CidrIp"]),
                             (22, "203.0.113.7/32"))

        # Instances: c5.large, dedicated, the looked-up AMI, IMDSv2 with tags, tagged.
        runs = [a for a in calls if a[6] == "run-instances"]
        self.assertEqual(len(runs), 3)
        for a, role, count, sg in zip(runs, ("target", "agent", "coordinator"), ("1", "2", "1"),
                                      ("<sg-target>", "<sg-agent>", "<sg-coordinator>")):
            self.assertEqual(opt_of(a, "--instance-type"), "c5.large")
            self.assertEqual(opt_of(a, "--placement"), "Tenancy=dedicated")
            self.assertEqual(opt_of(a, "--image-id"), "<ami-ubuntu-24.04>")
            self.assertEqual(opt_of(a, "--count"), count)
            self.assertEqual(opt_of(a, "--security-group-ids"), sg)
            self.assertEqual(opt_of(a, "--key-name"), "bench")
            self.assertIn("InstanceMetadataTags=enabled", opt_of(a, "--metadata-options"))
            self.assertIn("HttpTokens=required", opt_of(a, "--metadata-options"))
            specs = json.loads(opt_of(a, "--tag-specifications"))
            self.assertEqual([s["ResourceType"] for s in specs], ["instance", "volume"])
            for s in specs:
                tags = {t["Key"]: t["Value"] for t in s["Tags"]}
                self.assertEqual(tags["fleetbench:stack"], "fleetbench")
                self.assertEqual(tags["fleetbench:role"], role)
            user_data = opt_of(a, "--user-data")
            self.assertTrue(user_data.startswith("file://"), user_data)
            with open(user_data[7:]) as f:
                text = f.read()
            self.assertIn(f"FB_ROLE={role}", text)
            self.assertIn("FB_SOURCE=", text)
            self.assertIn("fleetbench.git", text)

        # Then the key exchange, shown once, and the coordinator command.
        self.assertIn("wait", ops)
        self.assertIn("get-console-output", ops)
        tag_calls = [json.loads(opt_of(a, "--tags")) for a in calls if a[6] == "create-tags"]
        keys = [t["Key"] for tags in tag_calls for t in tags]
        self.assertIn("fleetbench:coordinator-key", keys)
        self.assertEqual(len([k for k in keys if k.startswith("fleetbench:agent:")]), 2)
        self.assertNotIn("terminate-instances", ops)
        self.assertRegex(out, r"coordinator --agents '<agent1-ip>:5555,<agent2-ip>:5555' "
                              r"--target '<target-ip>:8080' --key /etc/fleetbench/coordinator.key "
                              r"--known-agents /etc/fleetbench/known_agents --matrix all")

    def test_up_dry_run_without_source_shows_a_placeholder(self):
        rc, out, err = self.ec2("up", "--dry-run", "--agents", "2")
        self.assertEqual(rc, 0, err)
        self.assertIn("--source", err)
        self.assertIn("run-instances", out)
        self.assertIn("Tenancy=dedicated", out)
        self.assertEqual(self.calls(), [])

    def test_down_dry_run(self):
        rc, out, err = self.ec2("down", "--dry-run", "--prefix", "bench1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.calls(), [])
        calls = self.aws_lines(out)
        ops = [a[6] for a in calls]
        self.assertEqual(ops, ["describe-instances", "terminate-instances", "wait",
                               "describe-security-groups", "delete-security-group",
                               "delete-security-group", "delete-security-group"])
        for a in calls:
            if a[6].startswith("describe"):
                self.assertIn("Name=tag:fleetbench:stack,Values=bench1", a)
        self.assertEqual([opt_of(a, "--group-id") for a in calls if a[6] == "delete-security-group"],
                         ["<sg-target>", "<sg-agent>", "<sg-coordinator>"])

    def test_bad_arguments(self):
        cases = [
            ((), "Usage"),
            (("launch",), "unknown command 'launch'"),
            (("up", "--agents", "0", "--source", SOURCE_URL), "--agents"),
            (("up", "--agents", "many", "--source", SOURCE_URL), "--agents"),
            (("up", "--agents"), "--agents needs a value"),
            (("up", "--prefix", "Bad_Name", "--source", SOURCE_URL), "--prefix"),
            (("up", "--ssh-cidr", "everyone", "--source", SOURCE_URL), "--ssh-cidr"),
            (("up", "--tenancy", "shared", "--source", SOURCE_URL), "--tenancy"),
            (("up", "--deb", "/tmp/fleetbench.deb"), "--deb"),
            (("up", "--deb", "https://x.example/f.deb", "--source", SOURCE_URL), "--source and --deb"),
            (("up",), "--source"),
            (("up", "--target-port", "70000", "--source", SOURCE_URL), "--target-port"),
            (("up", "--region", "mars", "--source", SOURCE_URL), "--region"),
            (("status", "--frobnicate"), "unknown option '--frobnicate'"),
            (("down", "--subnet", "net-1"), "--subnet"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                rc, out, err = self.ec2(*args)
                self.assertEqual(rc, 1, f"{args}: {out}{err}")
                self.assertIn(message, err)
        self.assertEqual(self.calls(), [], "a refused command called aws")

    def test_help(self):
        rc, out, _ = self.ec2("--help")
        self.assertEqual(rc, 0)
        for word in ("up", "status", "down", "--dry-run", "--agents", "--ssh-cidr", "Exit codes"):
            self.assertIn(word, out)


class TestEc2WithStandIn(Ec2Case):

    def up(self, *extra, expect=0, source=("--source", SOURCE_URL)):
        rc, out, err = self.ec2("up", "--agents", "2", *source,
                                "--ssh-cidr", "203.0.113.7/32", *extra)
        self.assertEqual(rc, expect, f"up: {out}{err}")
        return out, err

    def test_up_status_down(self):
        out, err = self.up()
        insts, groups = self.stack()
        self.assertEqual(len(insts), 4)
        self.assertEqual(len(groups), 3)
        by_role = {}
        for iid, x in insts.items():
            by_role.setdefault(x["tags"]["fleetbench:role"], []).append((iid, x))
        self.assertEqual({r: len(v) for r, v in by_role.items()},
                         {"target": 1, "agent": 2, "coordinator": 1})
        (tid, target), = by_role["target"]
        (cid, coord), = by_role["coordinator"]
        for iid, x in insts.items():
            self.assertEqual(x["type"], "c5.large")
            self.assertEqual(x["placement"], "Tenancy=dedicated")
            self.assertEqual(x["image"], "ami-0fb24noble0000001")
            self.assertEqual(x["subnet"], "subnet-0bbb")  # the zone offering c5.large
            self.assertEqual(x["state"], "running")
            self.assertEqual(x["volume_tags"]["fleetbench:stack"], "fleetbench")
        # The agents load only the target; every host knows its role.
        for iid, x in by_role["agent"]:
            self.assertIn(f"FB_TARGET={target['ip']}:8080", x["user_data"])
            self.assertIn("FB_ROLE=agent", x["user_data"])
        self.assertIn("FB_AGENTS=2", coord["user_data"])
        # Security groups: rules by group, as planned.
        role_of = {g: x["tags"]["fleetbench:role"] for g, x in groups.items()}
        sg = {r: g for g, r in role_of.items()}
        pairs = {role_of[g]: [(r["FromPort"], p.get("GroupId"), p.get("CidrIp"))
                              for r in x["rules"]
                              for p in r.get("UserIdGroupPairs", []) + r.get("IpRanges", [])]
                 for g, x in groups.items()}
        self.assertEqual(sorted(pairs["target"]), [(22, None, "203.0.113.7/32"),
                                                   (8080, sg["agent"], None)])
        self.assertEqual(sorted(pairs["agent"]), [(22, None, "203.0.113.7/32"),
                                                  (5555, sg["coordinator"], None)])
        self.assertEqual(pairs["coordinator"], [(22, None, "203.0.113.7/32")])
        for iid, x in insts.items():
            self.assertEqual(x["groups"], [sg[x["tags"]["fleetbench:role"]]])

        # Key exchange: the coordinator's key on the agents, theirs on it.
        for iid, x in by_role["agent"]:
            self.assertEqual(x["tags"]["fleetbench:coordinator-key"], coord["pubkey"])
            self.assertEqual(coord["tags"][f"fleetbench:agent:{iid}"],
                             f"{x['ip']}:5555 {x['pubkey']}")
            self.assertEqual(x["tags"]["fleetbench:pubkey"], x["pubkey"])
        self.assertNotIn("fleetbench:coordinator-key", target["tags"])

        agents = ",".join(f"{x['ip']}:5555" for _, x in sorted(by_role["agent"]))
        command = (f"coordinator --agents {agents} --target {target['ip']}:8080 "
                   f"--key /etc/fleetbench/coordinator.key "
                   f"--known-agents /etc/fleetbench/known_agents --matrix all")
        self.assertIn(command, out)
        self.assertIn(coord["public"], out)
        ops = self.ops()
        self.assertEqual(ops.count("run-instances"), 3)
        self.assertEqual(ops.count("create-security-group"), 3)
        self.assertNotIn("terminate-instances", ops)
        self.assertNotIn("delete-security-group", ops)

        # status: the same picture, no new tag (the exchange is done).
        before = len(self.calls())
        rc, out, err = self.ec2("status")
        self.assertEqual(rc, 0, out + err)
        self.assertIn(command, out)
        for iid in insts:
            self.assertIn(iid, out)
        self.assertEqual(out.count(" ready"), 4)
        new_ops = [c[1] for c in self.calls()[before:]]
        self.assertNotIn("create-tags", new_ops)
        self.assertTrue(all(o.startswith(("describe-", "get-console-output")) for o in new_ops),
                        new_ops)

        # A second up with the same prefix is refused before making anything.
        before = len(self.calls())
        rc, out, err = self.ec2("up", "--source", SOURCE_URL)
        self.assertEqual(rc, 1)
        self.assertIn("already exists", err)
        self.assertEqual([c[1] for c in self.calls()[before:]], ["describe-instances"])

        # down: exactly the stack's instances and groups, nothing else.
        before_state = self.state()
        rc, out, err = self.ec2("down")
        self.assertEqual(rc, 0, out + err)
        after = self.state()
        terminated = {i for i, x in after["instances"].items() if x["state"] == "terminated"}
        self.assertEqual(terminated, set(insts))
        for iid, x in before_state["instances"].items():
            if iid not in insts:
                self.assertEqual(after["instances"][iid]["state"], x["state"], iid)
        self.assertEqual(set(after["groups"]), set(before_state["groups"]) - set(groups))
        self.assertIn("sg-0other0001", after["groups"])
        self.assertIn("sg-0default01", after["groups"])
        down_calls = self.calls()[-len(ops):]
        terminate = [c for c in down_calls if c[1] == "terminate-instances"]
        self.assertEqual(len(terminate), 1)
        self.assertEqual(sorted(terminate[0][3:3 + 4]), sorted(insts))

        rc, out, err = self.ec2("status")
        self.assertEqual(rc, 4, out + err)
        self.assertIn("no instances", out)
        rc, out, err = self.ec2("down")  # nothing left: still fine
        self.assertEqual(rc, 0, out + err)

    def test_up_no_wait_then_status_finishes_the_exchange(self):
        out, _ = self.up("--no-wait", "--prefix", "nowait", expect=3)
        self.assertIn("coordinator --agents", out)
        insts, _ = self.stack("nowait")
        self.assertEqual(len(insts), 4)
        self.assertNotIn("get-console-output", self.ops())
        # The instances run by now (the stand-in's "wait" is what starts them).
        st = self.state()
        for iid in insts:
            st["instances"][iid]["state"] = "running"
        self.write_state(st)
        # First status: keys read and tagged; the hosts become ready after it.
        rc, out, err = self.ec2("status", "--prefix", "nowait")
        self.assertIn(rc, (0, 3), out + err)
        self.assertIn("create-tags", self.ops())
        rc, out, err = self.ec2("status", "--prefix", "nowait")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("--known-agents /etc/fleetbench/known_agents", out)
        rc, out, err = self.ec2("down", "--prefix", "nowait")
        self.assertEqual(rc, 0, out + err)
        insts, groups = self.stack("nowait")
        self.assertTrue(all(x["state"] == "terminated" for x in insts.values()))
        self.assertEqual(groups, {})

    def test_failed_up_removes_what_it_made(self):
        st = self.state()
        st["fail"] = {"run-instances": 2}  # the agents' launch fails
        self.write_state(st)
        rc, out, err = self.ec2("up", "--agents", "2", "--source", SOURCE_URL)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("up failed; removing what it made", err)
        insts, groups = self.stack()
        self.assertTrue(all(x["state"] == "terminated" for x in insts.values()), insts)
        self.assertEqual(len(insts), 1)  # the target had been launched
        self.assertEqual(groups, {})
        self.assertIn("sg-0other0001", self.state()["groups"])

    def test_up_with_a_deb_and_a_subnet(self):
        out, _ = self.up("--subnet", "subnet-0aaa", "--prefix", "debstack", source=(
            "--deb", "https://downloads.example.org/fleetbench_0.1.0_amd64.deb"))
        insts, _ = self.stack("debstack")
        for x in insts.values():
            self.assertIn("FB_DEB=https://downloads.example.org/fleetbench_0.1.0_amd64.deb",
                          x["user_data"])
            self.assertEqual(x["subnet"], "subnet-0aaa")
        self.assertNotIn("describe-instance-type-offerings", self.ops())
        rc, out, err = self.ec2("down", "--prefix", "debstack")
        self.assertEqual(rc, 0, out + err)


# ---- ec2.sh through the real AWS CLI -------------------------------------------------

DEBIAN_AWS = "/usr/bin/aws"  # Debian's awscli; another `aws` on PATH is not used


class TestEc2WithRealCli(unittest.TestCase):
    """deploy/ec2.sh driving Debian's AWS CLI against ec2_api's stand-in of
    the EC2 Query API on 127.0.0.1 (AWS_ENDPOINT_URL): the CLI validates
    every parameter against its service model, signs and encodes every
    request, and parses every answer, applying --query itself."""

    def setUp(self):
        if not os.access(DEBIAN_AWS, os.X_OK):
            self.skipTest("Debian's AWS CLI is not installed (apt-get install awscli)")
        self.api = ec2_api.Ec2Api(json.loads(json.dumps(FOREIGN))).start()
        self.addCleanup(self.api.close)
        self.tmp = tempfile.mkdtemp(prefix="fbawscli-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        os.symlink(DEBIAN_AWS, os.path.join(bindir, "aws"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({
            "PATH": bindir + os.pathsep + "/usr/bin:/bin",
            "HOME": self.tmp,  # no ~/.aws of the machine's
            "AWS_ACCESS_KEY_ID": "AKIAFLEETBENCHTEST00",
            "AWS_SECRET_ACCESS_KEY": "not-a-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.tmp, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "no-credentials"),
            "AWS_ENDPOINT_URL": self.api.url,
            "AWS_MAX_ATTEMPTS": "1",  # an error is the stand-in's verdict, not a blip
            "FB_EC2_POLL": "0",
            "TMPDIR": self.tmp,
        })

    def ec2(self, *args):
        r = subprocess.run([EC2, *args], env=self.env, capture_output=True, text=True,
                           timeout=240, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout, r.stderr

    def stack(self):
        insts = {i: x for i, x in self.api.state["instances"].items()
                 if x["tags"].get("fleetbench:stack") == "fleetbench"
                 and x["tags"].get("fleetbench:managed-by") == "deploy/ec2.sh"}
        groups = {g: x for g, x in self.api.state["groups"].items()
                  if x["tags"].get("fleetbench:stack") == "fleetbench"}
        return insts, groups

    def test_up_status_down(self):
        rc, out, err = self.ec2("up", "--agents", "2", "--source", SOURCE_URL,
                                "--ssh-cidr", "203.0.113.7/32", "--region", "eu-west-1")
        self.assertEqual(rc, 0, out + err)
        actions = [a for a, _ in self.api.calls]
        for action in ("DescribeImages", "DescribeInstanceTypeOfferings", "DescribeSubnets",
                       "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RunInstances",
                       "GetConsoleOutput", "CreateTags"):
            self.assertIn(action, actions)
        insts, groups = self.stack()
        roles = sorted(x["tags"]["fleetbench:role"] for x in insts.values())
        self.assertEqual(roles, ["agent", "agent", "coordinator", "target"])
        self.assertEqual(len(groups), 3)
        sg = {x["tags"]["fleetbench:role"]: g for g, x in groups.items()}
        for iid, x in insts.items():
            role = x["tags"]["fleetbench:role"]
            self.assertEqual(x["image"], ec2_api.IMAGES[-1][0])  # the newest
            self.assertEqual(x["subnet"], "subnet-0bbb")  # the first zone offering c5.large
            self.assertEqual(x["placement"], {"Tenancy": "dedicated"})
            self.assertEqual(x["metadata"], {"HttpEndpoint": "enabled", "HttpTokens": "required",
                                             "InstanceMetadataTags": "enabled"})
            self.assertEqual(x["groups"], [sg[role]])
            self.assertEqual(x["volume_tags"]["fleetbench:role"], role)
            self.assertIn(f"FB_ROLE={role}", x["user_data"])  # the CLI read file:// and sent it
        rules = {x["tags"]["fleetbench:role"]: sorted(
            (r["FromPort"], p.get("GroupId"), p.get("CidrIp"))
            for r in x["rules"] for p in r["UserIdGroupPairs"] + r["IpRanges"])
            for x in groups.values()}
        self.assertEqual(rules["target"], [(22, None, "203.0.113.7/32"), (8080, sg["agent"], None)])
        self.assertEqual(rules["agent"], [(22, None, "203.0.113.7/32"),
                                          (5555, sg["coordinator"], None)])
        # the key exchange went through the CLI's --query of tags and console output
        coord = [x for x in insts.values() if x["tags"]["fleetbench:role"] == "coordinator"][0]
        for iid, x in insts.items():
            if x["tags"]["fleetbench:role"] == "agent":
                self.assertEqual(x["tags"]["fleetbench:coordinator-key"], coord["pubkey"])
                self.assertEqual(coord["tags"][f"fleetbench:agent:{iid}"],
                                 f"{x['ip']}:5555 {x['pubkey']}")
        self.assertIn("coordinator --agents 172.31.9.", out)

        rc, out, err = self.ec2("status", "--region", "eu-west-1")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count(" ready"), 4)

        rc, out, err = self.ec2("down", "--region", "eu-west-1")
        self.assertEqual(rc, 0, out + err)
        insts, groups = self.stack()
        self.assertTrue(all(x["state"] == "terminated" for x in insts.values()))
        self.assertEqual(groups, {})
        for iid, x in FOREIGN["instances"].items():  # not the stack's: left alone
            self.assertEqual(self.api.state["instances"][iid]["state"], x["state"])
        self.assertIn("sg-0other0001", self.api.state["groups"])
        rc, out, err = self.ec2("status", "--region", "eu-west-1")
        self.assertEqual(rc, 4, out + err)

    def test_an_ec2_error_is_reported(self):
        # no such subnet: the error AWS would give reaches the user, exit 1
        rc, out, err = self.ec2("up", "--source", SOURCE_URL, "--subnet", "subnet-0123456789abcdef0")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("subnet subnet-0123456789abcdef0 not found", err)
        self.assertIn("InvalidSubnetID.NotFound", err)
        self.assertEqual(self.stack(), ({}, {}))


# ---- the host script's key sync ------------------------------------------------------

class FakeImds:
    """Instance metadata with IMDSv2 tokens and instance tags, on 127.0.0.x."""

    def __init__(self, host, tags):
        self.tags = tags
        self.tokens_issued = 0
        imds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, code, body=b""):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                if self.path == "/latest/api/token" and \
                        self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    imds.tokens_issued += 1
                    return self.reply(200, b"TOKEN")
                self.reply(400)

            def do_GET(self):
                if self.headers.get("X-aws-ec2-metadata-token") != "TOKEN":
                    return self.reply(401)
                prefix = "/latest/meta-data/tags/instance"
                if self.path == prefix:
                    return self.reply(200, "\n".join(imds.tags).encode())
                if self.path.startswith(prefix + "/") and self.path[len(prefix) + 1:] in imds.tags:
                    return self.reply(200, imds.tags[self.path[len(prefix) + 1:]].encode())
                self.reply(404)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/latest"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TestHostScriptKeys(Ec2Case):
    """cloud-init/fleetbench-host.sh keys: tags (via IMDSv2) to key files."""

    def render(self, role):
        rc, out, err = self.ec2("up", "--dry-run", "--agents", "2", "--source", SOURCE_URL)
        self.assertEqual(rc, 0, err)
        m = re.search(r"User data \(rendered\): (\S+)/\{", out)
        self.assertTrue(m, out)
        return os.path.join(m.group(1), f"{role}.sh")

    def keygen(self, program, prefix):
        status, out, err = fbtest.run_process([fbtest.binary(program), "keygen", prefix])
        self.assertEqual(status, 0, out + err)
        with open(prefix + ".pub") as f:
            return f.read().strip()

    def run_keys(self, script, imds, etc):
        env = dict(self.env, FB_IMDS=imds.url, FB_ETC=etc,
                   FB_SYSTEMCTL=os.path.join(self.tmp, "systemctl"))
        with open(env["FB_SYSTEMCTL"], "w") as f:
            f.write(f"#!/bin/sh\necho \"$@\" >> {self.tmp}/systemctl.log\n")
        os.chmod(env["FB_SYSTEMCTL"], 0o755)
        r = subprocess.run(["bash", script, "keys"], env=env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout + r.stderr

    def test_coordinator_known_agents_from_tags(self):
        script = self.render("coordinator")
        etc = os.path.join(self.tmp, "etc-coord")
        os.mkdir(etc)
        k1 = self.keygen("agent", os.path.join(self.tmp, "a1"))
        k2 = self.keygen("agent", os.path.join(self.tmp, "a2"))
        tags = {"fleetbench:stack": "fleetbench", "fleetbench:role": "coordinator",
                "fleetbench:agent:i-0001": f"172.31.9.12:5555 {k1}"}
        imds = FakeImds(fbtest.next_host(), tags)
        self.addCleanup(imds.close)
        rc, out = self.run_keys(script, imds, etc)
        self.assertEqual(rc, 1, out)  # one agent of two so far
        with open(os.path.join(etc, "known_agents")) as f:
            self.assertEqual(f.read(), f"172.31.9.12:5555 {k1}\n")
        tags["fleetbench:agent:i-0002"] = f"172.31.9.13:5555 {k2}"
        tags["fleetbench:agent:i-0003"] = "172.31.9.14:5555 $(touch /tmp/pwned)"  # refused
        tags["fleetbench:agent:i-0004"] = f"not-an-address {k2}"  # refused
        rc, out = self.run_keys(script, imds, etc)
        self.assertEqual(rc, 0, out)
        self.assertIn("ignoring the malformed tag fleetbench:agent:i-0003", out)
        self.assertIn("ignoring the malformed tag fleetbench:agent:i-0004", out)
        known = os.path.join(etc, "known_agents")
        with open(known) as f:
            self.assertEqual(f.read(), f"172.31.9.12:5555 {k1}\n172.31.9.13:5555 {k2}\n")
        self.assertEqual(stat.S_IMODE(os.stat(known).st_mode), 0o644)
        self.assertFalse([n for n in os.listdir(etc) if n != "known_agents"], os.listdir(etc))
        self.assertGreater(imds.tokens_issued, 0)

    def test_agent_authorized_keys_from_tag(self):
        script = self.render("agent")
        etc = os.path.join(self.tmp, "etc-agent")
        os.mkdir(etc)
        ck = self.keygen("coordinator", os.path.join(self.tmp, "c"))
        tags = {"fleetbench:stack": "fleetbench", "fleetbench:role": "agent"}
        imds = FakeImds(fbtest.next_host(), tags)
        self.addCleanup(imds.close)
        rc, out = self.run_keys(script, imds, etc)
        self.assertNotEqual(rc, 0, out)  # no coordinator key yet
        self.assertFalse(os.path.exists(os.path.join(etc, "authorized_keys")))
        tags["fleetbench:coordinator-key"] = "short"
        rc, out = self.run_keys(script, imds, etc)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("malformed", out)
        tags["fleetbench:coordinator-key"] = ck
        rc, out = self.run_keys(script, imds, etc)
        self.assertEqual(rc, 0, out)
        with open(os.path.join(etc, "authorized_keys")) as f:
            self.assertEqual(f.read(), ck + "\n")
        with open(os.path.join(self.tmp, "systemctl.log")) as f:
            self.assertEqual(f.read().split("\n")[:2],
                             ["enable fleetbench-agent.service", "restart fleetbench-agent.service"])
        # Unchanged key: no restart.
        rc, out = self.run_keys(script, imds, etc)
        self.assertEqual(rc, 0, out)
        with open(os.path.join(self.tmp, "systemctl.log")) as f:
            self.assertEqual(len(f.read().splitlines()), 2)


# ---- static checks --------------------------------------------------------------------

class TestStatic(unittest.TestCase):

    SCRIPTS = [EC2, CLUSTER, HOST_SCRIPT, os.path.join(DEPLOY, "bash-completion", "fleetbench")] + [
        os.path.join(DEPLOY, "debian", n) for n in ("postinst", "prerm", "postrm")]

    def test_shellcheck(self):
        shellcheck = shutil.which("shellcheck")
        if not shellcheck:
            self.skipTest("shellcheck is not installed")
        r = subprocess.run([shellcheck, *self.SCRIPTS], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_scripts_are_executable(self):
        for path in (EC2, CLUSTER):
            self.assertTrue(os.access(path, os.X_OK), path)

    def unit(self, name):
        with open(os.path.join(DEPLOY, "systemd", name)) as f:
            return f.read()

    def test_units_are_hardened(self):
        for name, program, env in (("fleetbench-agent.service", "agent", "AGENT_OPTS"),
                                   ("fleetbench-target-server.service", "target-server",
                                    "TARGET_SERVER_OPTS")):
            text = self.unit(name)
            with self.subTest(unit=name):
                self.assertIn(f"ExecStart=/usr/bin/{program} ${env}\n", text)
                self.assertIn(f"EnvironmentFile=-/etc/default/{name[:-len('.service')]}\n", text)
                for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                             "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=\n",
                             "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                             "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"):
                    self.assertIn(line, text)
                self.assertTrue("User=fleetbench" in text or "DynamicUser=yes" in text)
                self.assertNotRegex(text, r"(?m)^User=root")

    def test_units_verify(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        tmp = tempfile.mkdtemp(prefix="fbunits-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        for name, program in (("fleetbench-agent.service", "agent"),
                              ("fleetbench-target-server.service", "target-server")):
            text = self.unit(name).replace(f"/usr/bin/{program}", fbtest.binary(program))
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        r = subprocess.run([analyze, "verify", "--man=no",
                            os.path.join(tmp, "fleetbench-agent.service"),
                            os.path.join(tmp, "fleetbench-target-server.service")],
                           capture_output=True, text=True, timeout=120)
        # Only our units' own complaints count (the host's units are not ours).
        ours = [line for line in (r.stdout + r.stderr).splitlines() if "fleetbench-" in line]
        self.assertEqual(ours, [], r.stdout + r.stderr)


# ---- local cluster ---------------------------------------------------------------------

class TestLocalCluster(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fbcluster-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.state = os.path.join(self.tmp, "state")
        self.env = fbtest.sanitizer_env(dict(os.environ, FB_BIN_DIR=fbtest.BIN_DIR,
                                             FLEETBENCH_CLUSTER_DIR=self.state))

    def cluster(self, *args, timeout=60):
        r = subprocess.run([CLUSTER, *args], env=self.env,
                           capture_output=True, text=True, timeout=timeout * fbtest.SLOW,
                           stdin=subprocess.DEVNULL, cwd=self.tmp)
        return r.returncode, r.stdout, r.stderr

    def pids(self):
        with open(os.path.join(self.state, "pids")) as f:
            return [(name, int(pid)) for name, pid, _ in (line.split(" ", 2) for line in f)]

    def down_at_cleanup(self):
        def down():
            if os.path.exists(self.state):
                self.cluster("down")
        self.addCleanup(down)

    def check_logs(self):
        logs = os.path.join(self.state, "logs")
        for name in os.listdir(logs):
            with open(os.path.join(logs, name), errors="replace") as f:
                text = f.read()
            marker = fbtest.sanitizer_report(text)
            self.assertIsNone(marker, f"{name}: {text[-4000:]}")

    def run_coordinator(self, up_out, k):
        m = re.search(r"^coordinator command:\n  (.+)$", up_out, re.M)
        self.assertTrue(m, up_out)
        argv = shlex.split(m.group(1))
        self.assertEqual(argv[-2:], ["--matrix", "all"])
        self.assertIn("--known-agents", argv)
        self.assertIn("--key", argv)
        agents = argv[argv.index("--agents") + 1].split(",")
        self.assertEqual(len(agents), k)
        export = os.path.join(self.tmp, "results.json")
        argv = argv[:-2] + ["--matrix", "async-for", "-r", "10", "--runs", "2", "-w", "0",
                            "--export-json", export]
        r = subprocess.run(argv, env=self.env, capture_output=True, text=True, cwd=self.tmp,
                           timeout=120 * fbtest.SLOW, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIsNone(fbtest.sanitizer_report(r.stderr), r.stderr)
        with open(export) as f:
            results = json.load(f)["results"]
        self.assertEqual(len(results), 1)
        self.assertEqual(len(results[0]["times"]), 2)
        self.assertEqual(results[0]["exit_codes"], [0, 0])
        return agents

    def test_up_run_down(self):
        self.down_at_cleanup()
        rc, out, err = self.cluster("up", "3", "--target-opts", "--threads 1")
        self.assertEqual(rc, 0, out + err)
        pids = self.pids()
        self.assertEqual([n for n, _ in pids], ["target", "agent1", "agent2", "agent3"])
        for _, pid in pids:
            self.assertTrue(fbtest.pid_alive(pid))
        agents = self.run_coordinator(out, 3)
        hosts = {a.rsplit(":", 1)[0] for a in agents}
        self.assertEqual(len(hosts), 3, agents)  # each agent its own address
        self.assertTrue(all(h.startswith("127.") for h in hosts), hosts)
        # The agents refuse a coordinator without the key (fail closed).
        rc, sout, serr = self.cluster("status")
        self.assertEqual(rc, 0, sout + serr)
        self.assertEqual(sout.count("running"), 4)
        # `run` is the same command with other arguments.
        rc, rout, rerr = self.cluster("run", "--", "--matrix", "threads-reuse", "-r", "20",
                                      "-c", "5", "--runs", "1", "-w", "0", "--export-json",
                                      os.path.join(self.tmp, "run.json"))
        self.assertEqual(rc, 0, rout + rerr)
        # A second up refuses: one cluster per state dir.
        rc, _, err2 = self.cluster("up", "1")
        self.assertEqual(rc, 1)
        self.assertIn("already up", err2)
        self.check_logs()

        rc, out, err = self.cluster("down")
        self.assertEqual(rc, 0, out + err)
        for name, pid in pids:
            self.assertFalse(fbtest.pid_alive(pid), f"{name} (pid {pid}) survived down")
        self.assertFalse(os.path.exists(self.state))
        rc, out, _ = self.cluster("status")
        self.assertEqual(rc, 1)
        rc, out, _ = self.cluster("down")
        self.assertEqual(rc, 0)
        self.assertIn("nothing to stop", out)

    def test_status_sees_a_dead_process(self):
        self.down_at_cleanup()
        rc, out, err = self.cluster("up", "1", "--insecure")
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("--key", out)
        (_, target), (_, agent) = self.pids()
        os.kill(agent, signal.SIGKILL)
        for _ in range(100):
            if not fbtest.pid_alive(agent):
                break
            time.sleep(0.05)
        rc, out, _ = self.cluster("status")
        self.assertEqual(rc, 2, out)
        self.assertIn("gone", out)
        rc, out, err = self.cluster("down")
        self.assertEqual(rc, 0, out + err)
        self.assertFalse(fbtest.pid_alive(target))

    def test_bad_arguments(self):
        for args, message in ((("up",), "number of agents"), (("up", "0"), "1..200"),
                              (("up", "2", "--base", "10.0.0.1"), "loopback"),
                              (("up", "2", "--bogus"), "unknown option"),
                              (("start",), "unknown command")):
            with self.subTest(args=args):
                rc, out, err = self.cluster(*args)
                self.assertEqual(rc, 1, out + err)
                self.assertIn(message, err)
        self.assertFalse(os.path.exists(self.state))

    def test_a_failed_start_leaves_nothing(self):
        # The agents' port is taken: the first agent cannot listen.
        # (Addresses outside fbtest's 127.0.0.x: no other test's process names them.)
        host = "127.1.61.1"
        blocker = fbtest.SilentListener("127.1.61.2")
        self.addCleanup(blocker.close)
        rc, out, err = self.cluster("up", "2", "--base", host, "--agent-port", str(blocker.port))
        self.assertEqual(rc, 1, out + err)
        self.assertIn("agent1 did not start", err)
        self.assertFalse(os.path.exists(self.state))
        self.assertFalse(self.leftovers(host), "processes left behind")

    def leftovers(self, host):
        """Processes whose command line names `host` (ours: nobody else uses it)."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if host in cmd and fbtest.pid_alive(int(entry)):
                    found.append(cmd)
        return found

    def test_netns(self):
        if os.geteuid() != 0 or not shutil.which("ip"):
            self.skipTest("network namespaces need root and ip")
        probe = f"fbprobe{os.getpid()}"
        if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
            self.skipTest("cannot create network namespaces here")
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
        self.down_at_cleanup()
        rc, out, err = self.cluster("up", "2", "--netns", "--subnet", "10.215.7",
                                    "--target-opts", "--threads 1")
        self.assertEqual(rc, 0, out + err)
        with open(os.path.join(self.state, "netns")) as f:
            namespaces = f.read().split()
        self.assertEqual(len(namespaces), 5)  # switch, coordinator, target, 2 agents
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for ns in namespaces:
            self.assertIn(ns, listed)
        target_ns = [ns for ns in namespaces if ns.endswith("-target")][0]
        routes = subprocess.run(["ip", "-n", target_ns, "route"], capture_output=True,
                                text=True).stdout
        self.assertNotIn("default", routes)
        self.assertIn("10.215.7.0/24", routes)
        self.assertIn("ip netns exec", out)
        agents = self.run_coordinator(out, 2)
        self.assertEqual(agents, ["10.215.7.11:5555", "10.215.7.12:5555"])
        pids = self.pids()
        rc, out, err = self.cluster("down")
        self.assertEqual(rc, 0, out + err)
        for name, pid in pids:
            self.assertFalse(fbtest.pid_alive(pid), f"{name} survived down")
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for ns in namespaces:
            self.assertNotIn(ns, listed)


# ---- man pages, completions, copyright -----------------------------------------------

PROGRAMS = ("agent", "coordinator", "target-server")
MAN = os.path.join(SOURCE_DIR, "docs", "man")
COMPLETION = os.path.join(DEPLOY, "bash-completion", "fleetbench")


def long_options(text):
    """The --long-options a text names (roff writes a dash as \\-)."""
    return set(re.findall(r"(?<![\w-])--([a-z][a-z-]*[a-z])", text.replace("\\-", "-")))


def check_dep5(test, text):
    """Debian's machine-readable copyright format: a header paragraph with
    Format, then Files paragraphs, each with Copyright and License, and the
    text of every license named without one."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    fields = []
    for p in paragraphs:
        f = {}
        for line in p.splitlines():
            if line[:1] in (" ", "\t"):
                continue  # continuation
            key, sep, value = line.partition(":")
            test.assertTrue(sep, f"not a field: {line!r}")
            f[key] = value.strip()
        fields.append(f)
    test.assertEqual(fields[0].get("Format"),
                     "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    test.assertIn("Upstream-Name", fields[0])
    files = [f for f in fields[1:] if "Files" in f]
    test.assertTrue(files, "no Files paragraph")
    test.assertTrue(any(f["Files"] == "*" for f in files))
    for f in files:
        test.assertIn("Copyright", f)
        test.assertIn("License", f)
    # a license given by name only needs its text in a paragraph of its own
    for p, f in zip(paragraphs[1:], fields[1:]):
        if "License" in f and len(p.split("License:", 1)[1].strip().splitlines()) == 1:
            test.assertTrue(any(g.get("License") == f["License"] and "Files" not in g
                                for g in fields[1:]), f["License"])


class TestManPages(unittest.TestCase):
    """docs/man: one page per program, saying what --help says."""

    def help_text(self, *argv):
        status, out, err = fbtest.run_process([fbtest.binary(argv[0]), *argv[1:], "--help"])
        self.assertEqual(status, 0, err)
        return out

    def test_pages_name_every_option(self):
        # tests only (not in --help), and hyperfine's options the page says are refused
        hidden = {"proto-version", "style"}
        for program in PROGRAMS:
            with self.subTest(program=program):
                helps = self.help_text(program)
                if program == "agent":
                    helps += self.help_text("agent", "run")
                with open(os.path.join(MAN, f"{program}.1")) as f:
                    page = f.read()
                self.assertEqual(long_options(page) - hidden, long_options(helps) - hidden)
                self.assertIn(".SH EXIT STATUS", page)

    def test_render(self):
        groff = shutil.which("groff")
        if groff is None:
            self.skipTest("groff is not installed")
        for program in PROGRAMS:
            with self.subTest(program=program):
                r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z",
                                    os.path.join(MAN, f"{program}.1")],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_copyright_is_dep5(self):
        with open(os.path.join(DEPLOY, "debian", "copyright")) as f:
            check_dep5(self, f.read())


class TestCompletion(unittest.TestCase):
    """deploy/bash-completion/fleetbench, driven as bash drives it: COMP_WORDS
    and COMP_CWORD set, the function called, COMPREPLY read."""

    def complete(self, *words):
        path = os.pathsep.join(os.path.dirname(fbtest.binary(p)) for p in PROGRAMS)
        script = (f"source {shlex.quote(COMPLETION)}\n"
                  f"PATH={shlex.quote(path)}:$PATH\n"
                  f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
                  "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                  "_fleetbench\n"
                  "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
                  "complete -p agent coordinator target-server\n")
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                           text=True, timeout=60, env=fbtest.sanitizer_env(dict(os.environ)))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[-3:], [f"complete -F _fleetbench {p}" for p in PROGRAMS])
        return [line for line in lines[:-3] if line]

    def test_options_come_from_help(self):
        self.assertEqual(self.complete("coordinator", "--ru"), ["--run-timeout", "--runs"])
        self.assertEqual(self.complete("target-server", "--max-c"), ["--max-connections"])
        self.assertEqual(self.complete("agent", "run", "async-for", "--con"), ["--connections"])
        self.assertIn("--allow-target", self.complete("agent", "--"))

    def test_values(self):
        self.assertEqual(self.complete("coordinator", "--mode", ""), ["lockstep", "serial"])
        self.assertEqual(self.complete("coordinator", "--on-agent-loss", "a"), ["abort"])
        self.assertEqual(self.complete("coordinator", "--matrix", "async-for,threads-r"),
                         ["async-for,threads-recreate", "async-for,threads-reuse"])
        self.assertEqual(self.complete("agent", "run", "async"), ["async-for", "async-map"])
        self.assertEqual(self.complete("agent", ""), ["run", "keygen"])
        self.assertEqual(self.complete("target-server", "--port", ""), [])  # a number: no guess
        self.assertEqual(self.complete("agent", "run", "async-for", ""), [])  # one strategy


# ---- the .deb ------------------------------------------------------------------------

class TestDeb(unittest.TestCase):
    """cpack -G DEB from this build (into a temp dir; the build is not touched)."""

    @classmethod
    def setUpClass(cls):
        cls.cpack, cls.dpkg_deb = shutil.which("cpack"), shutil.which("dpkg-deb")
        cls.deb = None
        if not cls.cpack or not cls.dpkg_deb:
            return
        cls.tmp = tempfile.mkdtemp(prefix="fbdeb-")
        config = os.path.join(fbtest.BIN_DIR, "CPackConfig.cmake")
        if not os.path.exists(config):
            cls.error = f"{config} missing: is cmake/packaging.cmake included?"
            return
        r = subprocess.run([cls.cpack, "-G", "DEB", "--config", config, "-B", cls.tmp],
                           capture_output=True, text=True, timeout=240, cwd=fbtest.BIN_DIR)
        cls.error = r.stdout + r.stderr
        debs = [n for n in os.listdir(cls.tmp) if n.endswith(".deb")]
        if r.returncode == 0 and len(debs) == 1:
            cls.deb = os.path.join(cls.tmp, debs[0])

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if not self.cpack or not self.dpkg_deb:
            self.skipTest("cpack or dpkg-deb is not installed")
        self.assertIsNotNone(self.deb, f"cpack -G DEB failed:\n{self.error}")

    def field(self, name):
        return subprocess.run([self.dpkg_deb, "-f", self.deb, name], capture_output=True,
                              text=True, check=True).stdout.strip()

    def test_contents_and_control(self):
        self.assertRegex(os.path.basename(self.deb), r"^fleetbench_\d+\.\d+\.\d+_[a-z0-9]+\.deb$")
        contents = subprocess.run([self.dpkg_deb, "-c", self.deb], capture_output=True, text=True,
                                  check=True).stdout
        files = {line.split()[-1] for line in contents.splitlines()}
        for path in ("./usr/bin/agent", "./usr/bin/coordinator", "./usr/bin/target-server",
                     "./usr/lib/systemd/system/fleetbench-agent.service",
                     "./usr/lib/systemd/system/fleetbench-target-server.service",
                     "./usr/lib/sysusers.d/fleetbench.conf",
                     "./etc/default/fleetbench-agent", "./etc/default/fleetbench-target-server",
                     "./usr/share/doc/fleetbench/README.md",
                     "./usr/share/doc/fleetbench/protocol.md",
                     "./usr/share/doc/fleetbench/copyright"):
            self.assertIn(path, files)
        for program in PROGRAMS:
            self.assertIn(f"./usr/share/man/man1/{program}.1.gz", files)
            self.assertIn(f"./usr/share/bash-completion/completions/{program}", files)
        for line in contents.splitlines():
            if line.split()[-1].startswith("./usr/bin/") and not line.startswith("d"):
                self.assertTrue(line.startswith("-rwxr-xr-x root/root"), line)
        self.assertFalse([f for f in files if "/test" in f or "/include/" in f], files)

        self.assertEqual(self.field("Package"), "fleetbench")
        self.assertIn("@", self.field("Maintainer"))
        depends = self.field("Depends")
        for lib in ("libuv1", "libcurl4", "libzmq5", "libmsgpackc2", "libhttp-parser2.9",
                    "libjansson4"):
            self.assertIn(lib, depends)
        control = subprocess.run([self.dpkg_deb, "-I", self.deb], capture_output=True, text=True,
                                 check=True).stdout
        for script in ("postinst", "prerm", "postrm", "conffiles"):
            self.assertIn(script, control)

        # Unpacked: the units run the packaged programs, which run.
        tmp = tempfile.mkdtemp(prefix="fbdebx-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        root, ctl = os.path.join(tmp, "root"), os.path.join(tmp, "control")
        subprocess.run([self.dpkg_deb, "-x", self.deb, root], check=True)
        subprocess.run([self.dpkg_deb, "-e", self.deb, ctl], check=True)
        with open(os.path.join(ctl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/default/fleetbench-agent",
                                                "/etc/default/fleetbench-target-server"])
        with open(os.path.join(root, "usr/lib/systemd/system/fleetbench-agent.service")) as f:
            self.assertIn("ExecStart=/usr/bin/agent $AGENT_OPTS", f.read())
        # the man pages are the sources, gzipped; the copyright file is DEP-5
        for program in PROGRAMS:
            with gzip.open(os.path.join(root, f"usr/share/man/man1/{program}.1.gz"), "rt") as f:
                with open(os.path.join(SOURCE_DIR, "docs", "man", f"{program}.1")) as src:
                    self.assertEqual(f.read(), src.read(), program)
        with open(os.path.join(root, "usr/share/doc/fleetbench/copyright")) as f:
            check_dep5(self, f.read())
        for program in ("agent", "coordinator", "target-server"):
            status, out, err = fbtest.run_process([os.path.join(root, "usr/bin", program),
                                                   "--version"])
            self.assertEqual(status, 0, out + err)
            self.assertIn(self.field("Version").split("-")[0], out + err)

    def test_install_into_a_throwaway_root(self):
        """dpkg -i / -r / -P in a copy-on-write root: an overlay of / in a private
        mount namespace, so this machine itself is never changed."""
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("chroot"):
            self.skipTest("needs root, unshare and chroot")
        tmp = tempfile.mkdtemp(prefix="fbdebroot-", dir="/var/tmp")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        for d in ("upper", "work", "merged"):
            os.mkdir(os.path.join(tmp, d))
        shutil.copy(self.deb, os.path.join(tmp, "fleetbench.deb"))
        inside = r"""
set -eu
agent_opts() { . /etc/default/fleetbench-agent; echo "$AGENT_OPTS"; }
dpkg -i /fbdeb/fleetbench.deb
getent passwd fleetbench
test -d /etc/fleetbench
agent keygen /etc/fleetbench/agent >/dev/null
chown fleetbench:fleetbench /etc/fleetbench/agent.key
coordinator keygen /tmp/fbcoord >/dev/null
cp /tmp/fbcoord.pub /etc/fleetbench/authorized_keys
# The agent as its unit runs it: user fleetbench, AGENT_OPTS (on loopback here).
opts=$(agent_opts)
timeout -s TERM 3 setpriv --reuid=fleetbench --regid=fleetbench --clear-groups     /usr/bin/agent ${opts/0.0.0.0:5555/127.0.0.1:0} || test $? = 124
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no /usr/lib/systemd/system/fleetbench-agent.service         /usr/lib/systemd/system/fleetbench-target-server.service
fi
dpkg -r fleetbench
test ! -e /usr/bin/agent
test -e /etc/fleetbench/agent.key
dpkg -P fleetbench
test ! -e /etc/fleetbench
test ! -e /etc/default/fleetbench-agent
echo THROWAWAY-ROOT-OK
"""
        with open(os.path.join(tmp, "inside.sh"), "w") as f:
            f.write(inside)
        outer = f"""
set -e
M={tmp}/merged
mount -t overlay overlay -o lowerdir=/,upperdir={tmp}/upper,workdir={tmp}/work "$M" || exit 77
mount -t proc proc "$M/proc"
mount --rbind /dev "$M/dev"
mkdir -p "$M/fbdeb"
mount --bind {tmp} "$M/fbdeb"
chroot "$M" /bin/bash /fbdeb/inside.sh
"""
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", outer],
                           capture_output=True, text=True, timeout=180,
                           stdin=subprocess.DEVNULL)
        if r.returncode == 77 or "unshare failed" in r.stderr:
            self.skipTest(f"no overlay mount here: {r.stderr[-300:]}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("THROWAWAY-ROOT-OK", r.stdout)
        self.assertIn("agent: listening on tcp://127.0.0.1:", r.stdout + r.stderr)
        self.assertIsNone(shutil.which("agent", path="/usr/bin"), "the host got the package")


if __name__ == "__main__":
    unittest.main()
