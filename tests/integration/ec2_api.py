"""A stand-in for the EC2 Query API on loopback, for the real AWS CLI.

deploy/ec2.sh run with AWS_ENDPOINT_URL=http://127.0.0.1:PORT drives
Debian's `aws` (awscli) against this server: the CLI checks every parameter
against its service model, serializes the request (EC2's query protocol,
SigV4-signed), and parses the XML answers, applying --query and --output
text itself. So what reaches here, and what ec2.sh reads back, is exactly
what it would be against AWS, less AWS.

The server plays the calls ec2.sh makes (describe-instances, -security-groups,
-images, -subnets, -instance-type-offerings, create-security-group,
authorize-security-group-ingress, run-instances, get-console-output,
create-tags, terminate-instances, delete-security-group) over a state of
the same shape the shell stand-in of test_deploy.py keeps: instances and
groups by id, each with its tags. Hosts "boot" at once: a launched instance
is running by the next call, a terminated one gone. console_text() plays a
host's console (its key, then "ready" once the keys are exchanged), and is
shared with the shell stand-in.

Anything the server does not expect (an action, a filter, a missing
parameter) is an EC2 error, so a change in ec2.sh's calls shows up as a
failure, not as silently wrong answers.
"""

import base64
import fnmatch
import random
import string
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
Z85 = string.digits + string.ascii_letters + ".-:+=^!/*?&<>()[]{}@%$#"
STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}
IMAGES = [  # two Canonical builds: ec2.sh must take the newest
    ("ami-0fb24noble0000000", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240301",
     "2024-03-01T10:00:00.000Z"),
    ("ami-0fb24noble0000001", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423",
     "2024-04-23T10:00:00.000Z"),
]
CANONICAL = "099720109477"
SUBNETS = [("subnet-0aaa", "vpc-0default", "us-east-1a"), ("subnet-0bbb", "vpc-0default", "us-east-1b")]
OFFERED_IN = ["us-east-1b", "us-east-1c"]  # the zones offering the instance type


def console_text(state, inst):
    """The console of instance inst: boot lines, its public key (agents and the
    coordinator), and "state ready" once its side of the key exchange is done."""
    role = inst["tags"].get("fleetbench:role")
    stack = inst["tags"].get("fleetbench:stack")
    lines = ["[    0.000000] Linux version 6.8.0-1009-aws",
             "fleetbench-ec2: state installing fleetbench"]
    if role in ("agent", "coordinator"):
        lines.append("fleetbench-ec2: pubkey %s %s" % (role, inst["pubkey"]))
    ready = True
    if role == "agent":
        coords = [x for x in state["instances"].values()
                  if x["tags"].get("fleetbench:role") == "coordinator"
                  and x["tags"].get("fleetbench:stack") == stack]
        ready = bool(coords) and inst["tags"].get("fleetbench:coordinator-key") == coords[0]["pubkey"]
    elif role == "coordinator":
        agents = [x for x in state["instances"].values()
                  if x["tags"].get("fleetbench:role") == "agent" and x["state"] != "terminated"
                  and x["tags"].get("fleetbench:stack") == stack]
        want = {"%s:5555 %s" % (a["ip"], a["pubkey"]) for a in agents}
        have = {v for k, v in inst["tags"].items() if k.startswith("fleetbench:agent:")}
        ready = want == have
    if ready:
        lines.append("fleetbench-ec2: state ready")
    return "\r\n".join(lines) + "\r\n"


class Ec2Error(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def unflatten(pairs):
    """EC2 query parameters ("Filter.1.Value.2=x") as nested dicts and lists."""
    root = {}
    for key, value in pairs:
        node, parts = root, key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node):
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return [lists(node[k]) for k in sorted(node, key=int)]
        return {k: lists(v) for k, v in node.items()}
    return lists(root)


def tag_xml(tags):
    return "<tagSet>%s</tagSet>" % "".join(
        "<item><key>%s</key><value>%s</value></item>" % (escape(k), escape(v))
        for k, v in tags.items())


def el(name, value):
    return "" if value is None else "<%s>%s</%s>" % (name, escape(str(value)), name)


class Ec2Api:
    """The server: start() it, point AWS_ENDPOINT_URL at .url, read .state
    and .calls ([(Action, params)]), close() it."""

    def __init__(self, state):
        self.state = state
        self.state.setdefault("instances", {})
        self.state.setdefault("groups", {})
        self.calls = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                code, xml = api.handle(urllib.parse.parse_qsl(body, keep_blank_values=True),
                                       self.headers.get("Authorization", ""))
                data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/xml;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- dispatch ----------------------------------------------------------------

    def handle(self, pairs, authorization):
        params = dict(pairs)
        action = params.get("Action", "")
        with self.lock:
            self.calls.append((action, unflatten(pairs)))
            try:
                if not authorization.startswith("AWS4-HMAC-SHA256 Credential="):
                    raise Ec2Error("AuthFailure", "the request is not SigV4-signed")
                if params.get("Version") != "2016-11-15":
                    raise Ec2Error("InvalidParameterValue", "Version %r" % params.get("Version"))
                fn = getattr(self, "do_" + action, None)
                if fn is None:
                    raise Ec2Error("InvalidAction", "the stand-in does not play " + action)
                inner = fn(unflatten(pairs))
                return 200, '<%sResponse xmlns="%s"><requestId>%s</requestId>%s</%sResponse>' % (
                    action, XMLNS, self.request_id(), inner, action)
            except Ec2Error as e:
                return 400, ("<Response><Errors><Error><Code>%s</Code><Message>%s</Message>"
                             "</Error></Errors><RequestID>%s</RequestID></Response>" % (
                                 escape(e.code), escape(e.message), self.request_id()))

    def request_id(self):
        return "%08x-0000-4000-8000-%012x" % (len(self.calls), len(self.calls))

    def new_id(self, prefix):
        self.state["seq"] = self.state.get("seq", 0) + 1
        return "%s-%017x" % (prefix, 0xf00 + self.state["seq"])

    @staticmethod
    def need(p, *names):
        for n in names:
            if n not in p:
                raise Ec2Error("MissingParameter", "the request must contain the parameter " + n)

    @staticmethod
    def filters(p, known):
        out = []
        for f in p.get("Filter", []):
            name = f.get("Name")
            if not (name in known or (name or "").startswith("tag:") and "tag:" in known):
                raise Ec2Error("InvalidParameterValue", "the stand-in has no filter %r" % name)
            out.append((name, f.get("Value", [])))
        return out

    @staticmethod
    def matches(res, filters, values_of):
        for name, values in filters:
            if name.startswith("tag:"):
                have = res["tags"].get(name[4:])
            else:
                have = values_of(name)
            if not any(fnmatch.fnmatchcase(str(have), v) for v in values):
                return False
        return True

    def tag_specs(self, p, rtype):
        tags = {}
        for spec in p.get("TagSpecification", []):
            if spec.get("ResourceType") == rtype:
                tags.update({t["Key"]: t["Value"] for t in spec.get("Tag", [])})
        return tags

    # ---- instances ---------------------------------------------------------------

    def instance_xml(self, iid, x):
        groups = "".join("<item><groupId>%s</groupId></item>" % g for g in x["groups"])
        return ("<item>%s%s<instanceState><code>%d</code><name>%s</name></instanceState>%s%s%s"
                "%s%s<groupSet>%s</groupSet>%s</item>" % (
                    el("instanceId", iid), el("imageId", x.get("image")),
                    STATE_CODES[x["state"]], x["state"], el("privateIpAddress", x["ip"]),
                    el("ipAddress", x.get("public") if x["state"] == "running" else None),
                    el("instanceType", x.get("type")), el("subnetId", x.get("subnet")),
                    el("keyName", x.get("key_name")), groups, tag_xml(x["tags"])))

    def reservations(self, items):
        return "<reservationSet>%s</reservationSet>" % "".join(
            "<item><reservationId>r-%s</reservationId><ownerId>123456789012</ownerId>"
            "<instancesSet>%s</instancesSet></item>" % (iid[2:], self.instance_xml(iid, x))
            for iid, x in items)

    def do_DescribeInstances(self, p):
        fs = self.filters(p, {"tag:", "instance-state-name"})
        ids = p.get("InstanceId")
        insts = self.state["instances"]
        for iid in ids or []:
            if iid not in insts:
                raise Ec2Error("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist" % iid)
        sel = [(iid, x) for iid, x in insts.items()
               if (ids is None or iid in ids)
               and self.matches(x, fs, lambda n, x=x: x["state"])]
        return self.reservations(sel)

    def do_RunInstances(self, p):
        self.need(p, "ImageId", "MinCount", "MaxCount")
        if p["ImageId"] not in [i[0] for i in IMAGES]:
            raise Ec2Error("InvalidAMIID.NotFound", "The image id '[%s]' does not exist" % p["ImageId"])
        if p["MinCount"] != p["MaxCount"]:
            raise Ec2Error("InvalidParameterValue", "the stand-in wants MinCount = MaxCount")
        for g in p.get("SecurityGroupId", []):
            if g not in self.state["groups"]:
                raise Ec2Error("InvalidGroup.NotFound", "The security group '%s' does not exist" % g)
        if p.get("SubnetId") not in [s[0] for s in SUBNETS]:
            raise Ec2Error("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist" % p.get("SubnetId"))
        user_data = base64.b64decode(p.get("UserData", "")).decode()
        made = []
        for _ in range(int(p["MaxCount"])):
            iid = self.new_id("i")
            self.state["ip"] = self.state.get("ip", 10) + 1
            x = {"state": "pending", "ip": "172.31.9.%d" % self.state["ip"],
                 "public": "198.51.100.%d" % self.state["ip"],
                 "type": p.get("InstanceType"), "image": p["ImageId"], "subnet": p["SubnetId"],
                 "placement": p.get("Placement", {}), "metadata": p.get("MetadataOptions", {}),
                 "groups": p.get("SecurityGroupId", []), "key_name": p.get("KeyName"),
                 "tags": self.tag_specs(p, "instance"), "volume_tags": self.tag_specs(p, "volume"),
                 "user_data": user_data,
                 "pubkey": "".join(random.choice(Z85) for _ in range(40))}
            self.state["instances"][iid] = x
            made.append((iid, dict(x)))
            x["state"] = "running"  # AWS answers pending; it runs by the next call
        return ("<reservationId>r-%s</reservationId><ownerId>123456789012</ownerId>"
                "<instancesSet>%s</instancesSet>" % (
                    made[0][0][2:], "".join(self.instance_xml(i, x) for i, x in made)))

    def do_TerminateInstances(self, p):
        self.need(p, "InstanceId")
        items = []
        for iid in p["InstanceId"]:
            x = self.state["instances"].get(iid)
            if x is None:
                raise Ec2Error("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist" % iid)
            before = x["state"]
            x["state"] = "terminated"  # shutting-down, and gone by the next call
            items.append("<item>%s<currentState><code>32</code><name>shutting-down</name>"
                         "</currentState><previousState><code>%d</code><name>%s</name>"
                         "</previousState></item>" % (el("instanceId", iid), STATE_CODES[before],
                                                      before))
        return "<instancesSet>%s</instancesSet>" % "".join(items)

    def do_GetConsoleOutput(self, p):
        self.need(p, "InstanceId")
        if p.get("Latest") != "true":
            raise Ec2Error("InvalidParameterCombination", "the stand-in plays Nitro: --latest")
        x = self.state["instances"].get(p["InstanceId"])
        if x is None:
            raise Ec2Error("InvalidInstanceID.NotFound", p["InstanceId"])
        text = console_text(self.state, x) if x["state"] == "running" else ""
        return "%s<timestamp>2024-05-01T12:00:00.000Z</timestamp>%s" % (
            el("instanceId", p["InstanceId"]),
            el("output", base64.b64encode(text.encode()).decode()) if text else "")

    def do_CreateTags(self, p):
        self.need(p, "ResourceId", "Tag")
        for rid in p["ResourceId"]:
            target = self.state["instances"].get(rid) or self.state["groups"].get(rid)
            if target is None:
                raise Ec2Error("InvalidID", "The ID '%s' is not valid" % rid)
            for t in p["Tag"]:
                target["tags"][t["Key"]] = t.get("Value", "")
        return "<return>true</return>"

    # ---- security groups ---------------------------------------------------------

    def do_DescribeSecurityGroups(self, p):
        fs = self.filters(p, {"tag:"})
        items = "".join(
            "<item><ownerId>123456789012</ownerId>%s%s%s%s%s</item>" % (
                el("groupId", gid), el("groupName", g["name"]),
                el("groupDescription", g.get("description", "")), el("vpcId", g.get("vpc")),
                tag_xml(g["tags"]))
            for gid, g in self.state["groups"].items() if self.matches(g, fs, None))
        return "<securityGroupInfo>%s</securityGroupInfo>" % items

    def do_CreateSecurityGroup(self, p):
        self.need(p, "GroupName", "GroupDescription")
        if any(g["name"] == p["GroupName"] and g.get("vpc") == p.get("VpcId")
               for g in self.state["groups"].values()):
            raise Ec2Error("InvalidGroup.Duplicate", "The security group '%s' already exists"
                           % p["GroupName"])
        gid = self.new_id("sg")
        self.state["groups"][gid] = {"name": p["GroupName"], "description": p["GroupDescription"],
                                     "vpc": p.get("VpcId"), "rules": [],
                                     "tags": self.tag_specs(p, "security-group")}
        return "<return>true</return>%s" % el("groupId", gid)

    def do_AuthorizeSecurityGroupIngress(self, p):
        self.need(p, "GroupId", "IpPermissions")
        g = self.state["groups"].get(p["GroupId"])
        if g is None:
            raise Ec2Error("InvalidGroup.NotFound", "The security group '%s' does not exist"
                           % p["GroupId"])
        for perm in p["IpPermissions"]:
            rule = {"IpProtocol": perm.get("IpProtocol"), "FromPort": int(perm["FromPort"]),
                    "ToPort": int(perm["ToPort"]),
                    "UserIdGroupPairs": perm.get("Groups", []), "IpRanges": perm.get("IpRanges", [])}
            for pair in rule["UserIdGroupPairs"]:
                if pair.get("GroupId") not in self.state["groups"]:
                    raise Ec2Error("InvalidGroup.NotFound", str(pair.get("GroupId")))
            g["rules"].append(rule)
        return "<return>true</return>"

    def do_DeleteSecurityGroup(self, p):
        self.need(p, "GroupId")
        gid = p["GroupId"]
        if gid not in self.state["groups"]:
            raise Ec2Error("InvalidGroup.NotFound", "The security group '%s' does not exist" % gid)
        for other, g in self.state["groups"].items():
            for rule in g["rules"]:
                if any(pair.get("GroupId") == gid for pair in rule.get("UserIdGroupPairs", [])):
                    raise Ec2Error("DependencyViolation", "%s is referenced by %s" % (gid, other))
        for iid, x in self.state["instances"].items():
            if gid in x["groups"] and x["state"] != "terminated":
                raise Ec2Error("DependencyViolation", "%s is used by %s" % (gid, iid))
        del self.state["groups"][gid]
        return "<return>true</return>"

    # ---- what exists already: images, subnets, zones ----------------------------

    def do_DescribeImages(self, p):
        fs = self.filters(p, {"name", "state", "architecture"})
        if p.get("Owner", [CANONICAL]) != [CANONICAL]:
            return "<imagesSet/>"
        facts = {"state": "available", "architecture": "x86_64"}
        items = "".join(
            "<item>%s%s%s<imageState>available</imageState><architecture>x86_64</architecture>"
            "<imageOwnerId>%s</imageOwnerId></item>" % (
                el("imageId", i), el("name", n), el("creationDate", d), CANONICAL)
            for i, n, d in IMAGES
            if self.matches({"tags": {}}, fs, lambda k, n=n: n if k == "name" else facts[k]))
        return "<imagesSet>%s</imagesSet>" % items

    def do_DescribeSubnets(self, p):
        fs = self.filters(p, {"default-for-az"})
        ids = p.get("SubnetId")
        for sid in ids or []:
            if sid not in [s[0] for s in SUBNETS]:
                raise Ec2Error("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist" % sid)
        items = "".join(
            "<item>%s%s%s<defaultForAz>true</defaultForAz><state>available</state></item>" % (
                el("subnetId", s), el("vpcId", v), el("availabilityZone", z))
            for s, v, z in SUBNETS
            if (ids is None or s in ids) and self.matches({"tags": {}}, fs, lambda k: "true"))
        return "<subnetSet>%s</subnetSet>" % items

    def do_DescribeInstanceTypeOfferings(self, p):
        fs = self.filters(p, {"instance-type"})
        if p.get("LocationType") != "availability-zone":
            raise Ec2Error("InvalidParameterValue", "the stand-in knows availability zones only")
        itype = dict(fs).get("instance-type", ["c5.large"])[0]
        items = "".join(
            "<item><instanceType>%s</instanceType><locationType>availability-zone</locationType>"
            "<location>%s</location></item>" % (escape(itype), z) for z in OFFERED_IN)
        return "<instanceTypeOfferingSet>%s</instanceTypeOfferingSet>" % items
