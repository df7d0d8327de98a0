#!/usr/bin/env python3
"""tests/deploy/check_manifests.py: the Kubernetes manifests in deploy/, the seccomp profile and the
Dockerfile, checked statically against the binary and the sources. No cluster, registry or Docker
daemon runs here, so this is what holds them to the code (issue 15, design note section 4):

  1. every deploy/*.yaml parses (yaml.safe_load_all), each document is a kind we ship, and no plain
     YAML 1.1 boolean (yes/no/on/off) hides in it;
  2. every container runs the Dockerfile's installed binary (image cjcrawl:TAG, no other command), with
     a subcommand `cjcrawl --help` lists and only flags that `cjcrawl CMD --help` lists; --shard is
     $(JOB_COMPLETION_INDEX)/N with N the Job's completions; --listen and --metrics-listen are not
     loopback; --concurrency equals the CPU request; each $(VAR) is defined; no --unsafe-* flag;
  3. a container running Chrome mounts /dev/shm as a memory-backed emptyDir with a sizeLimit;
  4. no Secret is inlined: no kind Secret, PGPASSWORD and CJCRAWL_DB only from secretKeyRef, no
     credentialed postgres URL or password= anywhere in the files, and every Secret key the manifests
     read is one deploy/README.md's `kubectl create secret` command creates;
  5. probes are httpGet on a route the server code answers (crawler/*.cpp), at the port the container
     listens on, and the Service's targetPort is serve's --listen port;
  6. the merge Job's inputs are exactly the shard files the Indexed Job writes (shard-0 to shard-N-1),
     and its output is not one of them;
  7. pods run as the Dockerfile's unprivileged user with no privilege escalation, no capabilities and a
     read-only root; a pod running Chrome uses a Localhost seccomp profile found in deploy/seccomp/, which
     allows the calls Chrome was recorded making (tests/deploy/chrome-syscalls.txt) and its namespace
     sandbox's clone/unshare, and still refuses what the runtime default refuses; the egress
     NetworkPolicy selects every Chrome pod, excepts every private address class and allows DNS;
     the Dockerfile's RUN steps are only the scripts CI runs, its ENTRYPOINT is the installed binary.

Usage:
  check_manifests.py CJCRAWL_BINARY SOURCE_DIR              check SOURCE_DIR/deploy and SOURCE_DIR/Dockerfile
  check_manifests.py --self-test CJCRAWL_BINARY SOURCE_DIR  each mutation in MUTATIONS must make the check fail
Exit 0 when every check passes; 1 with one line per problem.
"""

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

INSTALLED_BINARY = "/usr/local/bin/cjcrawl"  # CMAKE_INSTALL_PREFIX /usr/local + bin (check_install.sh)
CONTAINER_UID = 10001
CHROME_COMMANDS = {"check", "crawl", "recheck"}  # the subcommands that start Chrome
SECRET_ENV = {"PGPASSWORD", "CJCRAWL_DB"}
# Where each listening command's HTTP routes are dispatched (`path == "/route"`).
ROUTE_SOURCES = {"serve": "crawler/feed.cpp", "crawl": "crawler/metrics_server.cpp",
                 "recheck": "crawler/metrics_server.cpp"}
KINDS = {
    ("batch/v1", "Job"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "PersistentVolumeClaim"),
}
YAML11_BOOLEANS = {"y", "n", "yes", "no", "on", "off"}
CREDENTIALED_URL = re.compile(r"postgres(?:ql)?://[^@/\s]*:[^@/\s]*@", re.IGNORECASE)
PASSWORD_ASSIGNMENT = re.compile(r"password\s*=", re.IGNORECASE)
# The address classes cjcrawl refuses (util/address.hpp); a crawler pod's egress must except each one.
PRIVATE_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8",
    )
]
# seccomp: the flags of clone(2)/unshare(2).
CLONE = {
    "SIGCHLD": 17, "CLONE_VM": 0x100, "CLONE_FS": 0x200, "CLONE_FILES": 0x400, "CLONE_SIGHAND": 0x800,
    "CLONE_THREAD": 0x10000, "CLONE_NEWNS": 0x20000, "CLONE_SYSVSEM": 0x40000, "CLONE_SETTLS": 0x80000,
    "CLONE_PARENT_SETTID": 0x100000, "CLONE_CHILD_CLEARTID": 0x200000, "CLONE_CHILD_SETTID": 0x1000000,
    "CLONE_NEWCGROUP": 0x2000000, "CLONE_NEWUTS": 0x4000000, "CLONE_NEWIPC": 0x8000000,
    "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000, "CLONE_NEWNET": 0x40000000,
}


def flags(*names):
    value = 0
    for name in names:
        value |= CLONE[name]
    return value


THREAD = flags("CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_THREAD", "CLONE_SYSVSEM",
               "CLONE_SETTLS", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID")
# (syscall, first argument): what Chrome's namespace sandbox was recorded calling (strace, 2026-12-03),
# and what the runtime default refuses and this profile must still refuse.
SECCOMP_MUST_ALLOW = [
    ("clone", THREAD),
    ("clone", flags("CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID", "SIGCHLD")),  # fork()
    ("clone", flags("CLONE_NEWUSER", "SIGCHLD")),  # the sandbox's probe for user namespaces
    ("clone", flags("CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "SIGCHLD")),  # the zygote
    ("clone", flags("CLONE_NEWPID", "SIGCHLD")),  # each renderer, inside the zygote's user namespace
    ("unshare", flags("CLONE_NEWUSER")),
    ("chroot", 0),  # into an empty directory, inside the user namespace
    ("socket", 2),  # AF_INET
    ("personality", 0xFFFFFFFF),
]
SECCOMP_MUST_REFUSE = [
    ("clone", flags("CLONE_NEWNS", "SIGCHLD")),
    ("clone", flags("CLONE_NEWNET", "SIGCHLD")),
    ("unshare", flags("CLONE_NEWNS")),
    ("unshare", flags("CLONE_NEWNET")),
    ("setns", 0), ("mount", 0), ("umount2", 0), ("bpf", 0), ("init_module", 0), ("kexec_load", 0),
    ("reboot", 0), ("open_by_handle_at", 0), ("keyctl", 0), ("add_key", 0), ("perf_event_open", 0),
    ("socket", 40),  # AF_VSOCK
    ("personality", 0x0040000),  # ADDR_NO_RANDOMIZE
]
# Keys of the OCI runtime spec's LinuxSeccomp: containerd reads a Localhost profile in that format and
# silently ignores the rest, so Docker's "includes"/"excludes" conditions would turn into plain allows.
SECCOMP_KEYS = {"defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath",
                "listenerMetadata", "syscalls"}
SECCOMP_RULE_KEYS = {"names", "action", "errnoRet", "args"}


class Checker:
    def __init__(self, binary, source):
        self.binary = binary
        self.source = source
        self.problems = []
        self._help = {}

    def problem(self, where, message):
        self.problems.append(f"{where}: {message}")

    # --- the binary's --help --------------------------------------------------------------------------

    def run_help(self, args):
        if args not in self._help:
            result = subprocess.run([self.binary, *args, "--help"], capture_output=True, text=True, timeout=60)
            if result.returncode != 0:
                raise SystemExit(f"{self.binary} {' '.join(args)} --help exited {result.returncode}: {result.stderr}")
            self._help[args] = result.stdout
        return self._help[args]

    @staticmethod
    def sections(text):
        """--help's sections ("Options:", "Subcommands:", ...) → their indented lines."""
        found, current = {}, None
        for line in text.splitlines():
            if line and not line[0].isspace():
                current = line.rstrip(":") if line.endswith(":") else None
                if current:
                    found[current] = []
            elif current and line.strip():
                found[current].append(line)
        return found

    def subcommands(self):
        names = set()
        for line in self.sections(self.run_help(())).get("Subcommands", []):
            match = re.match(r"^  ([a-z][a-z0-9-]*)(?:\s|$)", line)
            if match:
                names.add(match.group(1))
        return names

    def options(self, command):
        """{name: takes a value} for `cjcrawl COMMAND --help`'s Options, short and long names alike.
        A line is "  -q,--quiet  text", "  --limit UINT:1 to 1000000000 sites" (its text on the next
        line) or "  --chrome-arg TEXT ...": names, then an upper-case type when it takes a value."""
        options = {}
        for line in self.sections(self.run_help((command,))).get("Options", []):
            match = re.match(r"^  ((?:-[A-Za-z],)?--[a-z][a-z0-9-]*)(?: ([A-Z]+)\b)?", line)
            if not match:
                continue  # a wrapped description
            for name in match.group(1).split(","):
                options[name] = match.group(2) is not None
        return options

    # --- files ----------------------------------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.source, *parts)

    def manifest_files(self):
        folder = self.path("deploy")
        return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))

    def load(self):
        """Every document of every manifest, as (file, document); check 1."""
        documents = []
        for file in self.manifest_files():
            name = os.path.relpath(file, self.source)
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
            try:
                for node in yaml.compose_all(text):
                    self.check_yaml11_booleans(name, node)
                parsed = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError as error:
                self.problem(name, f"not valid YAML: {error}")
                continue
            self.check_inlined_secrets(name, text)
            for document in parsed:
                where = f"{name} {document.get('kind', '?')}/{document.get('metadata', {}).get('name', '?')}"
                if (document.get("apiVersion"), document.get("kind")) == ("v1", "Secret"):
                    self.problem(where, "a Secret in the manifests: create it with kubectl (deploy/README.md)")
                elif (document.get("apiVersion"), document.get("kind")) not in KINDS:
                    self.problem(where, f"unexpected apiVersion/kind {document.get('apiVersion')}/{document.get('kind')}")
                documents.append((where, document))
        return documents

    def check_yaml11_booleans(self, name, node):
        if isinstance(node, yaml.ScalarNode):
            if node.style is None and node.value.lower() in YAML11_BOOLEANS:
                self.problem(f"{name} line {node.start_mark.line + 1}",
                             f"plain `{node.value}` is a boolean in YAML 1.1 (Kubernetes' parser); quote it")
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.check_yaml11_booleans(name, item)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.check_yaml11_booleans(name, key)
                self.check_yaml11_booleans(name, value)

    def check_inlined_secrets(self, name, text):
        for number, line in enumerate(text.splitlines(), 1):
            if CREDENTIALED_URL.search(line):
                self.problem(f"{name} line {number}", "a PostgreSQL URL with a password: keep it in the Secret")
            if PASSWORD_ASSIGNMENT.search(line):
                self.problem(f"{name} line {number}", "password= inlined: keep it in the Secret")

    # --- the Dockerfile -------------------------------------------------------------------------------

    def dockerfile(self):
        """Check 7's Dockerfile part; returns the ENTRYPOINT's binary."""
        name = "Dockerfile"
        with open(self.path(name), encoding="utf-8") as handle:
            text = re.sub(r"\\\n", " ", handle.read())
        instructions = []
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                keyword, _, rest = line.partition(" ")
                instructions.append((keyword.upper(), rest.strip()))
        allowed = [
            ("setup-deps", re.compile(r"^scripts/setup-deps\.sh$")),
            ("setup-deps --runtime", re.compile(r"^/usr/local/lib/cjcrawl/setup-deps\.sh --runtime$")),
            ("build", re.compile(r"^scripts/build\.sh( [A-Za-z0-9_-]+)*$")),
            ("install", re.compile(r"^cmake --install build( --strip)?$")),
            ("useradd", re.compile(rf"^useradd( --[a-z-]+( [A-Za-z0-9/_-]+)?)* --uid {CONTAINER_UID}( --[a-z-]+( [A-Za-z0-9/_-]+)?)* [a-z][a-z0-9-]*$")),
            ("apt lists cleanup", re.compile(r"^rm -rf /var/lib/apt/lists/\*$")),
        ]
        seen, entrypoint, user = set(), None, None
        for keyword, rest in instructions:
            if keyword == "FROM" and not re.match(r"^debian:12( AS [a-z]+)?$", rest, re.IGNORECASE):
                self.problem(name, f"FROM {rest}: the image builds on debian:12, as CI does")
            elif keyword == "RUN":
                for command in (c.strip() for c in rest.split("&&")):
                    kinds = [kind for kind, pattern in allowed if pattern.match(command)]
                    if not kinds:
                        self.problem(name, f"RUN {command}: only the scripts CI runs (setup-deps.sh, build.sh), "
                                           "cmake --install and useradd may build the image")
                    seen.update(kinds)
            elif keyword == "USER":
                user = rest
            elif keyword == "ENTRYPOINT":
                try:
                    entrypoint = json.loads(rest)
                except json.JSONDecodeError:
                    self.problem(name, f"ENTRYPOINT {rest}: expected the exec form, a JSON list")
        for kind in ("setup-deps", "setup-deps --runtime", "build", "install", "useradd"):
            if kind not in seen:
                self.problem(name, f"no RUN step for {kind}")
        if user != str(CONTAINER_UID):
            self.problem(name, f"USER {user}: expected the unprivileged {CONTAINER_UID}")
        if not entrypoint or entrypoint[:2] != ["/usr/bin/tini", "--"] or len(entrypoint) != 3:
            self.problem(name, f"ENTRYPOINT {entrypoint}: expected [\"/usr/bin/tini\", \"--\", \"{INSTALLED_BINARY}\"]")
        elif entrypoint[2] != INSTALLED_BINARY:
            self.problem(name, f"ENTRYPOINT runs {entrypoint[2]}, not the installed {INSTALLED_BINARY}")
        if f"COPY --from=build {INSTALLED_BINARY} {INSTALLED_BINARY}" not in text:
            self.problem(name, f"the runtime stage does not copy {INSTALLED_BINARY} from the build stage")
        runtime = subprocess.run([self.path("scripts", "setup-deps.sh"), "--print-runtime"], capture_output=True,
                                 text=True, check=True).stdout.split()
        for package in ("chromium", "tini", "ca-certificates"):
            if package not in runtime:
                self.problem("scripts/setup-deps.sh", f"--print-runtime lacks {package}")

    # --- the seccomp profiles -------------------------------------------------------------------------

    @staticmethod
    def seccomp_action(profile, syscall, argument):
        """The action the profile takes for `syscall(argument, ...)`: an allowing rule wins, then a
        refusing one, then the default (as libseccomp orders them)."""
        matched = []
        for rule in profile.get("syscalls", []):
            if syscall not in rule.get("names", []):
                continue
            holds = True
            for condition in rule.get("args") or []:
                if condition.get("index") != 0:
                    holds = False  # every condition here is on the first argument
                    continue
                op, value, two = condition["op"], condition["value"], condition.get("valueTwo", 0)
                holds &= {
                    "SCMP_CMP_EQ": argument == value,
                    "SCMP_CMP_NE": argument != value,
                    "SCMP_CMP_MASKED_EQ": (argument & value) == two,
                    "SCMP_CMP_LT": argument < value,
                    "SCMP_CMP_LE": argument <= value,
                    "SCMP_CMP_GT": argument > value,
                    "SCMP_CMP_GE": argument >= value,
                }[op]
            if holds:
                matched.append(rule["action"])
        if "SCMP_ACT_ALLOW" in matched:
            return "SCMP_ACT_ALLOW"
        return matched[0] if matched else profile["defaultAction"]

    def seccomp_profile(self, file):
        name = os.path.relpath(file, self.source)
        try:
            with open(file, encoding="utf-8") as handle:
                profile = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            self.problem(name, f"not a readable JSON seccomp profile: {error}")
            return
        for key in set(profile) - SECCOMP_KEYS:
            self.problem(name, f"key {key!r} is not in the OCI seccomp format (containerd would ignore it)")
        for rule in profile.get("syscalls", []):
            for key in set(rule) - SECCOMP_RULE_KEYS:
                self.problem(name, f"rule {rule.get('names', [])[:3]}: key {key!r} is not in the OCI format")
        if profile.get("defaultAction") not in ("SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"):
            self.problem(name, f"defaultAction {profile.get('defaultAction')}: a profile must refuse by default")
        recorded = []
        with open(self.path("tests", "deploy", "chrome-syscalls.txt"), encoding="utf-8") as handle:
            recorded = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
        argument_rules = {syscall for syscall, _ in SECCOMP_MUST_ALLOW}
        for syscall in recorded:
            if syscall in argument_rules or syscall == "clone3":
                continue  # checked below with their recorded arguments; clone3 must be ENOSYS
            if self.seccomp_action(profile, syscall, 0) != "SCMP_ACT_ALLOW":
                self.problem(name, f"refuses {syscall}, which Chrome or cjcrawl was recorded calling")
        for syscall, argument in SECCOMP_MUST_ALLOW:
            if self.seccomp_action(profile, syscall, argument) != "SCMP_ACT_ALLOW":
                self.problem(name, f"refuses {syscall}({argument:#x}), which Chrome's sandbox needs")
        for syscall, argument in SECCOMP_MUST_REFUSE:
            if self.seccomp_action(profile, syscall, argument) == "SCMP_ACT_ALLOW":
                self.problem(name, f"allows {syscall}({argument:#x}), which the runtime default refuses")
        clone3 = [r for r in profile.get("syscalls", []) if "clone3" in r.get("names", [])]
        if not clone3 or clone3[0].get("action") != "SCMP_ACT_ERRNO" or clone3[0].get("errnoRet") != 38:
            self.problem(name, "clone3 must fail with ENOSYS (38) so that glibc falls back to clone, whose "
                               "flags a filter can read")

    # --- the manifests --------------------------------------------------------------------------------

    def routes(self, command):
        """The paths the HTTP handler of `cjcrawl COMMAND` answers exactly (`path == "/healthz"`), read
        from its source (ROUTE_SOURCES)."""
        source = ROUTE_SOURCES.get(command)
        if source is None or not os.path.isfile(self.path(source)):
            self.problem(source or command, f"no HTTP handler source known for `cjcrawl {command}`; "
                                            "update ROUTE_SOURCES in tests/deploy/check_manifests.py")
            return set()
        with open(self.path(source), encoding="utf-8") as handle:
            return set(re.findall(r'path == "(/[^"]*)"', handle.read()))

    @staticmethod
    def pod_spec(document):
        if document.get("kind") in ("Job", "Deployment"):
            return document.get("spec", {}).get("template", {}).get("spec", {})
        return None

    @staticmethod
    def cpu_cores(quantity):
        text = str(quantity)
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)

    @staticmethod
    def listen_port(value):
        host, _, port = value.rpartition(":")
        return host.strip("[]"), int(port) if port.isdigit() else None

    def parse_args(self, where, command, args):
        """--flag value pairs of a container's args, checked against --help: [(flag, value or None)]."""
        options = self.options(command)
        parsed, index = [], 1
        while index < len(args):
            token = args[index]
            index += 1
            if not token.startswith("-") or token == "-":
                continue  # a positional (INPUT, merge's files)
            name, equals, value = token.partition("=")
            if name not in options:
                self.problem(where, f"`cjcrawl {command}` has no option {name} (not in `cjcrawl {command} --help`)")
                continue
            if options[name] and not equals:
                if index >= len(args):
                    self.problem(where, f"{name} needs a value")
                    continue
                value = args[index]
                index += 1
            elif not options[name] and equals:
                self.problem(where, f"{name} takes no value")
            parsed.append((name, value if options[name] else None))
        return parsed

    def check_container(self, where, document, pod, container, context):
        """Checks 2-5 and 7 for one container; returns its subcommand."""
        image = container.get("image", "")
        if not re.match(r"^([a-z0-9.:-]+/)*cjcrawl:[A-Za-z0-9._-]+$", image):
            self.problem(where, f"image {image!r}: expected the Dockerfile's image, cjcrawl:TAG")
        command = container.get("command")
        if command is not None and command not in ([INSTALLED_BINARY], ["/usr/bin/tini", "--", INSTALLED_BINARY]):
            self.problem(where, f"command {command}: the image's ENTRYPOINT runs {INSTALLED_BINARY}; set args only")
        self.check_container_security(where, container)
        args = container.get("args") or []
        for arg in args:
            if not isinstance(arg, str):
                self.problem(where, f"args item {arg!r} is a {type(arg).__name__}: Kubernetes wants strings (quote it)")
        args = [str(a) for a in args]
        if not args:
            self.problem(where, "no args: the container would print cjcrawl's --help and exit")
            return None
        command_name = args[0]
        # 4: the database's URL and password come from the Secret.
        env = {e.get("name"): e for e in container.get("env") or []}
        for name, variable in env.items():
            secret = ((variable.get("valueFrom") or {}).get("secretKeyRef")) or None
            if (name in SECRET_ENV or re.search(r"PASSWORD|SECRET|TOKEN", name or "")) and not secret:
                self.problem(where, f"env {name} is not from a secretKeyRef")
            if secret:
                context["secret_keys"].add((secret.get("name"), secret.get("key")))
        indexed = document.get("kind") == "Job" and document["spec"].get("completionMode") == "Indexed"
        for variable in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(args)):
            if variable not in env and not (variable == "JOB_COMPLETION_INDEX" and indexed):
                self.problem(where, f"$({variable}) in args is defined nowhere (env, or an Indexed Job's index)")
        # 3: /dev/shm where Chrome runs.
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        mounts = {m.get("mountPath"): m for m in container.get("volumeMounts") or []}
        if "/tmp" not in mounts:
            self.problem(where, "no /tmp mount: the root filesystem is read-only")
        if command_name in CHROME_COMMANDS or "/dev/shm" in mounts:
            shm = volumes.get((mounts.get("/dev/shm") or {}).get("name"), {})
            empty_dir = shm.get("emptyDir")
            if not isinstance(empty_dir, dict) or empty_dir.get("medium") != "Memory" or not empty_dir.get("sizeLimit"):
                self.problem(where, "/dev/shm must be an emptyDir with medium: Memory and a sizeLimit")
        if command_name == "merge":
            context["merges"].append((where, [a for a in args[1:] if not a.startswith("-")]))
        # 2: the subcommand and its flags, against --help. What follows needs them.
        if command_name not in context["subcommands"]:
            self.problem(where, f"`{command_name}` is not a command `cjcrawl --help` lists")
            return command_name
        flags_given = self.parse_args(where, command_name, args)
        given = dict(flags_given)
        for name, value in flags_given:
            if name.startswith("--unsafe"):
                self.problem(where, f"{name}: the manifests keep Chrome's sandbox and the egress guard")
            if name in ("--listen", "--metrics-listen"):
                host, port = self.listen_port(value)
                if port is None:
                    self.problem(where, f"{name} {value}: expected HOST:PORT")
                elif host in ("", "localhost") or ipaddress.ip_address(host).is_loopback:
                    self.problem(where, f"{name} {value}: loopback, unreachable from outside the pod")
            if name == "--db" and value.startswith(("postgres://", "postgresql://")):
                self.problem(where, "--db names the PostgreSQL URL in args: take it from CJCRAWL_DB (the Secret)")
            if name == "--shard":
                match = re.match(r"^\$\(JOB_COMPLETION_INDEX\)/(\d+)$", value)
                spec = document.get("spec", {})
                if not match or not indexed:
                    self.problem(where, f"--shard {value}: expected $(JOB_COMPLETION_INDEX)/N in an Indexed Job")
                elif int(match.group(1)) != spec.get("completions"):
                    self.problem(where, f"--shard {value}: N is not the Job's completions ({spec.get('completions')})")
                else:
                    context["shards"].append((where, int(match.group(1)), given.get("--db")))
        requests = (container.get("resources") or {}).get("requests") or {}
        if command_name in CHROME_COMMANDS:
            if "--concurrency" not in given:
                self.problem(where, "no --concurrency: without a CPU limit its default is the node's cores, not the pod's request")
            elif "cpu" not in requests or self.cpu_cores(requests["cpu"]) != float(given["--concurrency"]):
                self.problem(where, f"--concurrency {given['--concurrency']} is not the CPU request "
                                    f"({requests.get('cpu')}): one core per slot")
        # 5: probes at a route this command's server answers, on the port it listens on.
        listen = given.get("--listen") or given.get("--metrics-listen")
        port_names = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
        for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = container.get(probe_name)
            if probe is None:
                continue
            http = probe.get("httpGet")
            if not http:
                self.problem(where, f"{probe_name} is not an httpGet")
                continue
            routes = self.routes(command_name)
            if http.get("path") not in routes:
                self.problem(where, f"{probe_name} path {http.get('path')} is not a route `cjcrawl {command_name}` "
                                    f"answers ({', '.join(sorted(routes)) or 'none found'})")
            port = port_names.get(http.get("port"), http.get("port"))
            if listen is None:
                self.problem(where, f"{probe_name} on port {http.get('port')}, but no --listen or --metrics-listen "
                                    "that cjcrawl accepts")
            elif port != self.listen_port(listen)[1]:
                self.problem(where, f"{probe_name} port {http.get('port')} is not the port cjcrawl listens on ({listen})")
        if command_name == "serve":
            context["serve"].append((where, document, container, listen))
        return command_name

    def check_container_security(self, where, container):
        """Check 7, the container's own security context."""
        security = container.get("securityContext") or {}
        if security.get("allowPrivilegeEscalation") is not False:
            self.problem(where, "securityContext.allowPrivilegeEscalation must be false")
        if security.get("privileged"):
            self.problem(where, "securityContext.privileged: never (Chrome's sandbox needs only user namespaces)")
        if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
            self.problem(where, "securityContext.capabilities.drop must be [ALL]")
        if (security.get("capabilities") or {}).get("add"):
            self.problem(where, "securityContext.capabilities.add: none (CAP_SYS_ADMIN is not how the sandbox runs)")
        if security.get("readOnlyRootFilesystem") is not True:
            self.problem(where, "securityContext.readOnlyRootFilesystem must be true")
        for field in ("runAsUser", "runAsGroup"):
            if field in security and security[field] != CONTAINER_UID:
                self.problem(where, f"securityContext.{field} {security[field]}: the image's user is {CONTAINER_UID}")
        if "seccompProfile" in security:
            self.problem(where, "seccompProfile belongs to the pod's securityContext (one place to read it)")

    def check_pod(self, where, document, pod, context):
        security = pod.get("securityContext") or {}
        if security.get("runAsNonRoot") is not True:
            self.problem(where, "pod securityContext.runAsNonRoot must be true")
        if security.get("runAsUser") != CONTAINER_UID:
            self.problem(where, f"pod securityContext.runAsUser must be {CONTAINER_UID}, the Dockerfile's user")
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field):
                self.problem(where, f"{field}: never")
        if document.get("kind") == "Job":
            if pod.get("restartPolicy") not in ("Never", "OnFailure"):
                self.problem(where, "a Job's pods need restartPolicy Never or OnFailure")
            if document["spec"].get("podFailurePolicy") and pod.get("restartPolicy") != "Never":
                self.problem(where, "podFailurePolicy requires restartPolicy: Never (the API refuses it otherwise)")
        commands = {self.check_container(f"{where} container {c.get('name')}", document, pod, c, context)
                    for c in pod.get("containers") or []}
        profile = security.get("seccompProfile") or {}
        if commands & CHROME_COMMANDS:
            context["chrome_pods"].append((where, document["spec"]["template"].get("metadata", {}).get("labels") or {}))
            local = profile.get("localhostProfile", "")
            if profile.get("type") != "Localhost" or not local.startswith("profiles/"):
                self.problem(where, "a pod running Chrome needs seccompProfile {type: Localhost, localhostProfile: "
                                    "profiles/cjcrawl-chrome.json}: the runtime default refuses its sandbox")
            elif not os.path.isfile(self.path("deploy", "seccomp", local[len("profiles/"):])):
                self.problem(where, f"seccomp profile {local} is not in deploy/seccomp/")
            else:
                context["seccomp_used"].add(local[len("profiles/"):])
        elif profile.get("type") not in ("RuntimeDefault", "Localhost"):
            self.problem(where, "seccompProfile must be RuntimeDefault (or Localhost), never unset or Unconfined")
        for volume in pod.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                context["claims_used"].append((where, claim, volume.get("name")))

    def check_network_policy(self, where, document, context):
        spec = document.get("spec", {})
        if "Egress" not in (spec.get("policyTypes") or []):
            return
        context["egress_selectors"].append((spec.get("podSelector") or {}).get("matchLabels") or {})
        dns = False
        for rule in spec.get("egress") or []:
            peers = rule.get("to")
            if not peers:
                self.problem(where, "an egress rule without `to` allows every destination")
                continue
            for peer in peers:
                block = peer.get("ipBlock")
                if block:
                    self.check_ip_block(where, block)
                labels = ((peer.get("podSelector") or {}).get("matchLabels") or {})
                if labels.get("k8s-app") == "kube-dns":
                    ports = {(p.get("protocol", "TCP"), p.get("port")) for p in rule.get("ports") or []}
                    dns |= ("UDP", 53) in ports
        if not dns:
            self.problem(where, "no egress rule allows DNS (UDP 53 to kube-dns)")

    def check_ip_block(self, where, block):
        try:
            cidr = ipaddress.ip_network(block["cidr"])
            excepted = [ipaddress.ip_network(e) for e in block.get("except") or []]
        except (KeyError, ValueError) as error:
            self.problem(where, f"ipBlock {block}: {error}")
            return
        for private in PRIVATE_NETWORKS:
            if private.version != cidr.version or not cidr.overlaps(private):
                continue
            inside = private if private.subnet_of(cidr) else cidr
            if not any(inside.subnet_of(e) for e in excepted if e.version == inside.version):
                self.problem(where, f"ipBlock {cidr} lets crawled pages reach {inside} (add it to except)")

    def check_readme_secret(self, context):
        with open(self.path("deploy", "README.md"), encoding="utf-8") as handle:
            readme = re.sub(r"\\\n", " ", handle.read())
        created = {}
        for match in re.finditer(r"kubectl create secret generic ([a-z0-9-]+)([^\n]*)", readme):
            keys = set(re.findall(r"--from-(?:literal|file)=([A-Za-z0-9_.-]+)=", match.group(2)))
            created.setdefault(match.group(1), set()).update(keys)
        for name, key in sorted(context["secret_keys"]):
            if key not in created.get(name, set()):
                self.problem("deploy/README.md", f"no `kubectl create secret generic {name}` with key {key}, "
                                                 "which the manifests read")
        if "checked, not run" not in readme:
            self.problem("deploy/README.md", "does not say plainly that the manifests are checked, not run")

    def run(self):
        self.dockerfile()
        documents = self.load()
        context = {
            "subcommands": self.subcommands(), "shards": [], "merges": [], "serve": [],
            "secret_keys": set(), "chrome_pods": [], "egress_selectors": [], "seccomp_used": set(),
            "claims_used": [],
        }
        claims = {}
        for where, document in documents:
            pod = self.pod_spec(document)
            if pod is not None:
                self.check_pod(where, document, pod, context)
            if document.get("kind") == "NetworkPolicy":
                self.check_network_policy(where, document, context)
            if document.get("kind") == "PersistentVolumeClaim":
                claims[document["metadata"]["name"]] = document["spec"].get("accessModes") or []
        # 4: the Secret's keys are the ones the README creates.
        self.check_readme_secret(context)
        # 5: the Service forwards to serve's port, and selects serve's pods.
        services = [(w, d) for w, d in documents if d.get("kind") == "Service"]
        for where, service in services:
            selector = service["spec"].get("selector") or {}
            targets = [s for s in context["serve"]
                       if selector and selector.items() <= (s[1]["spec"]["template"]["metadata"].get("labels") or {}).items()]
            if not targets:
                self.problem(where, "selects no serve pod")
            for port in service["spec"].get("ports") or []:
                for _, _, container, listen in targets:
                    names = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
                    target = names.get(port.get("targetPort"), port.get("targetPort"))
                    if listen is None or target != self.listen_port(listen)[1]:
                        self.problem(where, f"targetPort {port.get('targetPort')} is not serve's --listen port ({listen})")
        if not context["serve"]:
            self.problem("deploy/", "no serve Deployment")
        # 6: merge inputs = the shard files.
        if not context["merges"]:
            self.problem("deploy/", "no merge Job")
        if not context["shards"]:
            self.problem("deploy/", "no Indexed crawl Job with --shard")
        for where, positionals in context["merges"]:
            if len(positionals) < 2:
                self.problem(where, "merge needs OUT and at least one IN")
                continue
            output, inputs = positionals[0], positionals[1:]
            if output in inputs:
                self.problem(where, f"merge output {output} is also an input")
            for _, count, db in context["shards"]:
                if not db or "$(JOB_COMPLETION_INDEX)" not in db:
                    self.problem(where, "the shards Job's --db does not name a file per index")
                    continue
                expected = [db.replace("$(JOB_COMPLETION_INDEX)", str(i)) for i in range(count)]
                if sorted(inputs) != sorted(expected) or len(set(inputs)) != len(inputs):
                    self.problem(where, f"merge inputs {inputs} are not the {count} shard files {expected}")
        # 7: the egress policy covers every Chrome pod; the profiles they name are sound; claims exist.
        for where, labels in context["chrome_pods"]:
            if not any(selector and selector.items() <= labels.items() for selector in context["egress_selectors"]):
                self.problem(where, "no egress NetworkPolicy selects this pod, which runs Chrome")
        if not context["egress_selectors"]:
            self.problem("deploy/", "no egress NetworkPolicy")
        for file in sorted(context["seccomp_used"]):
            self.seccomp_profile(self.path("deploy", "seccomp", file))
        for where, claim, volume in context["claims_used"]:
            if claim not in claims:
                self.problem(where, f"claim {claim} is not defined in deploy/")
            elif volume == "data" and "ReadWriteMany" not in claims[claim]:
                self.problem(where, f"claim {claim} is shared by pods on several nodes: it must be ReadWriteMany")
        return self.problems


# --- the self-test: each mutation must make the check fail, for its own reason ---------------------------

# (name, file, old text, new text, a substring of the problem it must raise)
MUTATIONS = [
    ("misspelled flag", "deploy/crawl-shards-job.yaml", "- --concurrency\n", "- --concurency\n",
     "no option --concurency"),
    ("inlined password", "deploy/crawl-postgres-job.yaml",
     "            - name: PGPASSWORD\n              valueFrom:\n                secretKeyRef:\n"
     "                  name: cjcrawl-db\n                  key: password\n",
     "            - name: PGPASSWORD\n              value: hunter2\n", "env PGPASSWORD is not from a secretKeyRef"),
    ("credentialed URL", "deploy/serve.yaml", "            - --listen\n",
     "            - --db\n            - postgresql://cjcrawl:hunter2@postgres/cjcrawl\n            - --listen\n",
     "a PostgreSQL URL with a password"),
    ("a Secret in the manifests", "deploy/lists-pvc.yaml", "      storage: 1Gi\n",
     "      storage: 1Gi\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: cjcrawl-db\nstringData:\n"
     "  password: hunter2\n", "a Secret in the manifests"),
    ("/dev/shm on disk", "deploy/crawl-postgres-job.yaml", "            medium: Memory\n", "",
     "/dev/shm must be an emptyDir with medium: Memory"),
    ("/dev/shm unbounded", "deploy/crawl-shards-job.yaml", "            medium: Memory\n            sizeLimit: 1Gi\n",
     "            medium: Memory\n", "/dev/shm must be an emptyDir with medium: Memory and a sizeLimit"),
    ("probe on a missing route", "deploy/serve.yaml", "              path: /healthz\n              port: 8080\n"
     "            periodSeconds: 5\n", "              path: /health\n              port: 8080\n"
     "            periodSeconds: 5\n", "path /health is not a route"),
    ("Service to the wrong port", "deploy/serve.yaml", "      targetPort: 8080\n", "      targetPort: 8081\n",
     "targetPort 8081"),
    ("serve on loopback", "deploy/serve.yaml", "            - 0.0.0.0:8080\n", "            - 127.0.0.1:8080\n",
     "loopback"),
    ("a shard not merged", "deploy/merge-job.yaml", "            - /data/shard-7.db\n", "", "are not the 8 shard files"),
    ("shard count off", "deploy/crawl-shards-job.yaml", "            - $(JOB_COMPLETION_INDEX)/8\n",
     "            - $(JOB_COMPLETION_INDEX)/7\n", "N is not the Job's completions"),
    ("concurrency above the CPU request", "deploy/crawl-postgres-job.yaml", "              cpu: \"2\"\n",
     "              cpu: \"1\"\n", "is not the CPU request"),
    ("sandbox off", "deploy/crawl-postgres-job.yaml", "            - --quiet\n",
     "            - --quiet\n            - --unsafe-no-sandbox\n", "keep Chrome's sandbox"),
    ("privilege escalation", "deploy/merge-job.yaml", "allowPrivilegeEscalation: false",
     "allowPrivilegeEscalation: true", "allowPrivilegeEscalation must be false"),
    ("seccomp unconfined", "deploy/crawl-shards-job.yaml",
     "          type: Localhost\n          localhostProfile: profiles/cjcrawl-chrome.json\n",
     "          type: Unconfined\n", "needs seccompProfile"),
    ("seccomp without the user-namespace rule", "deploy/seccomp/cjcrawl-chrome.json", "\"valueTwo\": 268435456",
     "\"valueTwo\": 0", "which Chrome's sandbox needs"),
    ("seccomp with Docker-only conditions", "deploy/seccomp/cjcrawl-chrome.json", "\"action\": \"SCMP_ACT_ERRNO\",\n",
     "\"action\": \"SCMP_ACT_ERRNO\",\n      \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]},\n", "not in the OCI format"),
    ("a private range reachable", "deploy/egress-networkpolicy.yaml", "              - 10.0.0.0/8\n", "",
     "reach 10.0.0.0/8"),
    ("no DNS", "deploy/egress-networkpolicy.yaml", "          port: 53\n        - protocol: TCP\n          port: 53\n",
     "          port: 5353\n", "no egress rule allows DNS"),
    ("YAML 1.1 boolean", "deploy/crawl-postgres-job.yaml", "prometheus.io/scrape: \"true\"",
     "prometheus.io/scrape: yes", "is a boolean in YAML 1.1"),
    ("an unquoted number in args", "deploy/crawl-shards-job.yaml", "            - --concurrency\n            - \"2\"\n",
     "            - --concurrency\n            - 2\n", "Kubernetes wants strings"),
    ("an undefined variable", "deploy/crawl-postgres-job.yaml", "            - $(CRAWL_NAME)\n",
     "            - $(CRAWL_NAMES)\n", "$(CRAWL_NAMES) in args is defined nowhere"),
    ("an extra env variable (harmless)", "deploy/crawl-postgres-job.yaml", "              value: top-1m\n",
     "              value: top-1m\n            - name: UNUSED\n              value: x\n", None),
    ("a RUN step of its own", "Dockerfile", "RUN scripts/build.sh cjcrawl\n",
     "RUN apt-get install -y curl && scripts/build.sh cjcrawl\n", "RUN apt-get install -y curl"),
    ("another entrypoint", "Dockerfile", "\"/usr/local/bin/cjcrawl\"]", "\"/usr/bin/cjcrawl\"]",
     "not the installed /usr/local/bin/cjcrawl"),
    ("Secret key the README does not create", "deploy/serve.yaml", "                  key: url\n",
     "                  key: database-url\n", "with key database-url"),
]


def self_test(binary, source):
    """Copies what the check reads, applies each mutation to a fresh copy, and asserts the check then
    reports the mutation's problem, which the unmutated copy does not report (so this holds whether or
    not the tree itself passes today)."""
    failures = []
    with tempfile.TemporaryDirectory(prefix="cjcrawl-manifests-") as scratch:
        def fresh_copy():
            copy = os.path.join(scratch, "tree")
            shutil.rmtree(copy, ignore_errors=True)
            os.makedirs(os.path.join(copy, "tests"))
            shutil.copytree(os.path.join(source, "deploy"), os.path.join(copy, "deploy"))
            shutil.copytree(os.path.join(source, "tests", "deploy"), os.path.join(copy, "tests", "deploy"))
            shutil.copy(os.path.join(source, "Dockerfile"), copy)
            os.symlink(os.path.join(source, "crawler"), os.path.join(copy, "crawler"))
            os.symlink(os.path.join(source, "scripts"), os.path.join(copy, "scripts"))
            return copy

        baseline = set(Checker(binary, fresh_copy()).run())
        for name, file, old, new, expected in MUTATIONS:
            copy = fresh_copy()
            path = os.path.join(copy, file)
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            if text.count(old) < 1:
                failures.append(f"mutation '{name}': {file} no longer contains {old!r}; update the mutation")
                continue
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text.replace(old, new, 1))
            new_problems = [p for p in Checker(binary, copy).run() if p not in baseline]
            if expected is None:  # a harmless change: must not raise anything new
                verdict = "passes, as it should" if not new_problems else f"FAILED: {new_problems}"
                if new_problems:
                    failures.append(f"mutation '{name}' (harmless) raised {new_problems}")
            elif any(expected in p for p in new_problems):
                verdict = "caught: " + next(p for p in new_problems if expected in p)
            else:
                verdict = "NOT caught"
                failures.append(f"mutation '{name}': expected a new problem containing {expected!r}, got {new_problems}")
            print(f"{name}: {verdict}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{len(MUTATIONS) - len(failures)} of {len(MUTATIONS)} mutations behaved")
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--self-test":
        return self_test(os.path.abspath(argv[2]), os.path.abspath(argv[3]))
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    problems = Checker(os.path.abspath(argv[1]), os.path.abspath(argv[2])).run()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in deploy/ or the Dockerfile", file=sys.stderr)
        return 1
    print("deploy/ and the Dockerfile: every check passes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
