# cjcrawl in a container: Debian 12, built by the same scripts CI runs, Chrome's sandbox kept.
#   docker build -t cjcrawl:0.1.0 .
#   docker run --rm --security-opt seccomp=deploy/seccomp/cjcrawl-chrome.json cjcrawl:0.1.0 check https://example.org
# Kubernetes: deploy/README.md. This file is checked statically by tests/deploy/check_manifests.py (every
# RUN step is one of the scripts below, the ENTRYPOINT is the installed binary); no image has been built
# on the project's machines (no Docker daemon, no registry).

# --- build: the README's setup and build, then `cmake --install` ------------------------------------------
FROM debian:12 AS build
WORKDIR /src
COPY . .
# The same package list CI installs first (scripts/test.sh runs this script too).
RUN scripts/setup-deps.sh
# The same configure and build CI runs (RelWithDebInfo, warnings as errors), the binary alone.
RUN scripts/build.sh cjcrawl
# /usr/local/bin/cjcrawl and its rules in /usr/local/share/cjcrawl/rules, where the installed binary looks
# first (tests/deploy/check_install.sh runs the same install into a DESTDIR).
RUN cmake --install build --strip

# --- runtime: the binary, its rules, Chrome, tini ----------------------------------------------------------
FROM debian:12
# The runtime list has one home, the script (`setup-deps.sh --print-runtime` prints it); CI holds it to the
# libraries the built binary needs (tests/deploy/check_runtime_packages.sh).
COPY scripts/setup-deps.sh /usr/local/lib/cjcrawl/setup-deps.sh
RUN /usr/local/lib/cjcrawl/setup-deps.sh --runtime && rm -rf /var/lib/apt/lists/*

# How Chrome's sandbox is kept:
# - cjcrawl runs as this unprivileged user (uid 10001), so every Chrome it starts runs as that user too.
#   (Run as root, cjcrawl would drop Chrome to `nobody`, --chrome-user; the sandbox needs the same.)
# - Debian's chromium has no setuid sandbox helper (chromium-sandbox is not installed, and the pod sets
#   allowPrivilegeEscalation: false anyway), so Chrome's sandbox is the namespace sandbox: each renderer
#   gets new user, PID and network namespaces, made by an unprivileged user, plus Chrome's own seccomp-BPF
#   filter. --unsafe-no-sandbox is never needed and the manifests never pass it.
# - So the container must be allowed clone()/unshare() with CLONE_NEWUSER. Docker's and containerd's default
#   seccomp profile refuses that without CAP_SYS_ADMIN: run with deploy/seccomp/cjcrawl-chrome.json (the
#   default profile plus that one rule), never with --privileged, CAP_SYS_ADMIN or seccomp=unconfined.
#   In Kubernetes, the pod's securityContext names it: seccompProfile {type: Localhost, localhostProfile:
#   profiles/cjcrawl-chrome.json}, the file on every node under /var/lib/kubelet/seccomp/profiles/.
# - The node must allow unprivileged user namespaces: user.max_user_namespaces > 0, and on Ubuntu 23.10 and
#   later kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile granting `userns`.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/cjcrawl cjcrawl

COPY --from=build /usr/local/bin/cjcrawl /usr/local/bin/cjcrawl
COPY --from=build /usr/local/share/cjcrawl/ /usr/local/share/cjcrawl/

USER 10001
WORKDIR /home/cjcrawl
# tini is PID 1: Chrome's grandchildren that outlive their parent are reparented to PID 1, and cjcrawl waits
# only for its own Chrome, so without an init they would stay zombies. tini also forwards SIGTERM, which
# cjcrawl answers by finishing its visits within its interrupt grace.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/cjcrawl"]
CMD ["--help"]
