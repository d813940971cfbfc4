"""The deployment files, read as text: the Dockerfile, .dockerignore, compose.yaml and
deploy/haproxy.cfg.

None of them can be built or run here (no Docker daemon), so each is parsed and held to
what matters: a slim image with the CPU build of the pinned torch, every part of the site
copied where ``streamlit run app.py`` finds it, a non-root user, a health check on
Streamlit's endpoint, one port throughout, several replicas behind a proxy that keeps each
browser on one replica by a cookie and gives its websocket a long timeout.

Each check returns the problems it finds; ``test_a_wrong_file_is_caught`` breaks the real
files one way at a time and expects the matching problem, so no check passes vacuously.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
import yaml

from ui import memory, store

ROOT = Path(__file__).resolve().parent.parent
FILES = ("Dockerfile", ".dockerignore", "compose.yaml", "deploy/haproxy.cfg", "requirements.txt")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
HEALTH_PATH = "/_stcore/health"
#: Where the official haproxy image reads its configuration.
HAPROXY_CONFIG = "/usr/local/etc/haproxy/haproxy.cfg"
DOCKER_DNS = "127.0.0.11:53"
#: The least quiet time the proxy must let a student's websocket have: well above the
#: 30 s at which Streamlit pings it, so a slow answer never cuts a student off.
WEBSOCKET_QUIET_SECONDS = 10 * 60


def real_files() -> dict[str, str]:
    """The deployment files (and requirements.txt) as they are in the repository."""
    return {name: (ROOT / name).read_text() for name in FILES}


# --- what the site needs ---------------------------------------------------------------

def needed_at_run_time() -> set[str]:
    """The top-level entries of the repository that ``streamlit run app.py`` uses.

    Follows the code from app.py: every imported module that is a top-level package or
    file of the repository, every string literal that names a top-level entry (a page's
    path, ``"assets"`` in a path built from ``__file__``), through every file of each
    package found; plus ``.streamlit``, which Streamlit reads from its working directory.
    Entries git ignores (training checkpoints, the virtualenv) are never the site's.
    """
    untracked = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
    tops = {p.name for p in ROOT.iterdir() if p.name != ".git" and not ignored(untracked, p.name)}
    needed = {"app.py"}
    if (ROOT / ".streamlit" / "config.toml").is_file():
        needed.add(".streamlit")
    queue, seen = [ROOT / "app.py"], set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value and not re.search(r"\s", node.value):
                names = [node.value.replace("/", ".")]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                entry = top if top in tops else f"{top}.py" if f"{top}.py" in tops else None
                if entry is None or not top or entry in needed:
                    continue
                needed.add(entry)
                found = ROOT / entry
                queue.extend(sorted(found.rglob("*.py")) if found.is_dir() else [found])
    return needed


def test_what_the_site_needs_is_found_from_its_code():
    needed = needed_at_run_time()
    assert {"app.py", "chapters", "ui", "denoisers", "assets", ".streamlit"} <= needed
    assert not needed & {"tests", "benchmarks", ".venv", ".git"}


# --- the Dockerfile ----------------------------------------------------------------------

def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (KEYWORD, arguments): comments dropped, continued
    lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        pending = ""
        out.append((keyword.upper(), args.strip()))
    return out


def words(args: str) -> list[str]:
    """A command's words, from its exec (JSON) or shell form."""
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def option(tokens: list[str], name: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` among ``tokens``."""
    for i, token in enumerate(tokens):
        if token.startswith(f"{name}="):
            return token.split("=", 1)[1]
        if token == name and i + 1 < len(tokens):
            return tokens[i + 1]
    return None


def pip_installs(steps: list[tuple[str, str]]) -> list[tuple[int, list[str]]]:
    """Every ``pip install`` of a RUN, with its instruction's index, in the order they run."""
    found = []
    for index, (keyword, args) in enumerate(steps):
        if keyword != "RUN":
            continue
        for part in re.split(r"&&|;|\|\|", args):
            tokens = shlex.split(part)
            programs = {PurePosixPath(token).name for token in tokens[:3]}
            if programs & {"pip", "pip3"} and "install" in tokens:
                found.append((index, tokens))
    return found


def serve_port(steps: list[tuple[str, str]]) -> int | None:
    """The port the CMD serves the site on (``--server.port``)."""
    cmd = [args for keyword, args in steps if keyword == "CMD"]
    port = option(words(cmd[-1]), "--server.port") if cmd else None
    return int(port) if port and port.isdigit() else None


def landing(workdir: PurePosixPath, sources: list[str], dest: str) -> dict[str, PurePosixPath]:
    """Where COPY puts each source: a directory's contents go into ``dest`` itself, a file
    into ``dest`` (or ``dest/<name>`` when ``dest`` is a folder)."""
    target = workdir / dest
    into_folder = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
    placed = {}
    for source in sources:
        name = source.strip("/").removeprefix("./")
        if (ROOT / name).is_dir():
            placed[name] = target
        else:
            placed[name] = target / PurePosixPath(name).name if into_folder else target
    return placed


def dockerfile_problems(files: dict[str, str]) -> list[str]:
    """What is wrong with the Dockerfile, against requirements.txt and the site's code."""
    steps = instructions(files["Dockerfile"])
    problems = []
    keywords = [keyword for keyword, _ in steps]

    bases = [args.split()[0] for keyword, args in steps if keyword == "FROM"]
    image, _, tag = (bases[-1] if bases else "").partition(":")
    if image != "python" or not tag.startswith("3.11") or "slim" not in tag.split("-"):
        problems.append(f"the base image is {bases[-1] if bases else None}, not python:3.11-slim")

    pin = re.search(r"^torch==(\S+)", files["requirements.txt"], re.M)
    installs = pip_installs(steps)
    position = next((n for n, (_, tokens) in enumerate(installs)
                     if any(w.startswith("torch==") for w in tokens)), None)
    if position is None:
        problems.append("no pip install of a pinned torch")
    else:
        tokens = installs[position][1]
        version = next(w for w in tokens if w.startswith("torch==")).split("==", 1)[1]
        if pin is None or version != pin.group(1):
            problems.append(f"the image installs torch=={version}; requirements.txt pins "
                            f"{pin.group(0) if pin else 'none'}")
        if (option(tokens, "--index-url") or option(tokens, "-i")) != CPU_INDEX:
            problems.append(f"torch is not installed from the CPU wheel index ({CPU_INDEX})")
        rest = [later for _, later in installs[position + 1:]]
        if not any(option(later, "-r") == "requirements.txt" for later in rest):
            problems.append("requirements.txt is not installed after torch")

    workdir, placed = PurePosixPath("/"), {}
    first_requirements_copy = None
    for index, (keyword, args) in enumerate(steps):
        if keyword == "WORKDIR":
            workdir = workdir / args
        elif keyword in ("COPY", "ADD"):
            tokens = [t for t in words(args) if not t.startswith("--")]
            problems.extend(f"COPY {source}: there is no such file in the repository"
                            for source in tokens[:-1] if not (ROOT / source).exists())
            for name, where in landing(workdir, tokens[:-1], tokens[-1]).items():
                placed.setdefault(name, where)
                if name == "requirements.txt" and first_requirements_copy is None:
                    first_requirements_copy = index
    requirement_installs = [i for i, t in installs if option(t, "-r") == "requirements.txt"]
    if requirement_installs and (first_requirements_copy is None
                                 or first_requirements_copy > requirement_installs[0]):
        problems.append("requirements.txt is installed before it is copied into the image")
    for name in sorted(needed_at_run_time()):
        if placed.get(name) != workdir / name:
            problems.append(f"{name} is not copied to {workdir / name} "
                            f"(it lands at {placed.get(name)}), where the site reads it")

    cmd_at = max((i for i, k in enumerate(keywords) if k == "CMD"), default=None)
    users = [args.split(":")[0] for keyword, args in steps[:cmd_at] if keyword == "USER"]
    if not users or users[-1] in ("root", "0"):
        problems.append("the site runs as root: no USER other than root before CMD")
    elif not any(keyword == "RUN" and re.search(rf"\b(useradd|adduser)\b.*\b{users[-1]}\b", args)
                 for keyword, args in steps):
        problems.append(f"USER {users[-1]} is never created (useradd/adduser)")

    port = serve_port(steps)
    cmd = words(steps[cmd_at][1]) if cmd_at is not None else []
    if cmd[:3] != ["streamlit", "run", "app.py"]:
        problems.append(f"the CMD is {cmd}, not streamlit run app.py")
    if option(cmd, "--server.address") != "0.0.0.0":
        problems.append("the CMD does not listen on 0.0.0.0: nothing outside the container "
                        "reaches it")
    exposed = [int(p.split("/")[0])
               for keyword, args in steps if keyword == "EXPOSE" for p in args.split()]
    if port is None or exposed != [port]:
        problems.append(f"EXPOSE {exposed} is not the port the CMD serves ({port})")

    checks = [args for keyword, args in steps if keyword == "HEALTHCHECK"]
    check = checks[-1].split("CMD", 1)[1].strip() if checks and "CMD" in checks[-1] else ""
    url = re.search(r"https?://(?:localhost|127\.0\.0\.1):(\d+)(/[^'\"\s)]*)", check)
    if url is None or int(url.group(1)) != port or url.group(2) != HEALTH_PATH:
        problems.append(f"the HEALTHCHECK does not ask http://localhost:{port}{HEALTH_PATH}")
    if check and words(check)[0] not in ("python", "python3"):
        problems.append(f"the HEALTHCHECK runs {words(check)[0]}, which the slim image may lack")
    return problems


# --- .dockerignore -----------------------------------------------------------------------

def ignored(patterns: list[str], path: str) -> bool:
    """Whether Docker leaves ``path`` (or a folder above it) out of the build context."""
    parts = path.split("/")
    result = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.removeprefix("!").strip("/")
        wildcards = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
        regex = "".join(wildcards.get(piece, re.escape(piece))
                        for piece in re.split(r"(\*\*|\*|\?)", pattern))
        regex = regex.replace(".*/", "(.*/)?")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = not negate
    return result


def dockerignore_problems(files: dict[str, str]) -> list[str]:
    """What is wrong with .dockerignore: local state let in, or a needed file left out."""
    patterns = [line.strip() for line in files[".dockerignore"].splitlines()
                if line.strip() and not line.strip().startswith("#")]
    problems = [f"{name} is not excluded from the build context"
                for name in (".git", ".venv", "checkpoints") if not ignored(patterns, name)]
    for entry in sorted(needed_at_run_time()):
        found = ROOT / entry
        for path in sorted(found.rglob("*")) if found.is_dir() else [found]:
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and ignored(patterns, relative):
                problems.append(f"{relative} is needed but excluded by .dockerignore")
    return problems


# --- compose.yaml and the proxy ------------------------------------------------------------

def sections(text: str) -> dict[str, list[list[str]]]:
    """An HAProxy configuration's sections ("backend replicas") and their directives, each
    split into words."""
    found: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        content = line.split("#", 1)[0].rstrip()
        if not content.strip():
            continue
        if not line[0].isspace():
            current = " ".join(content.split())
            found[current] = []
        elif current is not None:
            found[current].append(content.split())
    return found


def seconds(value: str) -> float:
    """An HAProxy time ("2h", "30s", "5000": milliseconds by default) in seconds."""
    number, unit = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)?", value).groups()
    scale = {"us": 1e-6, "ms": 1e-3, None: 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(number) * scale[unit]


def directive(lines: list[list[str]], *head: str) -> list[str] | None:
    """The last directive of a section that starts with the words ``head``."""
    matches = [line for line in lines if line[:len(head)] == list(head)]
    return matches[-1] if matches else None


def _replica_problems(app: dict) -> list[str]:
    """What each replica lacks: one thread per library (several replicas share the cores),
    a memory limit that holds the caches' budget, and the shared on-disk store."""
    problems = []
    environment = app.get("environment", {})
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if str(environment.get(variable)) != "1":
            problems.append(f"{variable} is not 1: each replica would use every core")
    limit = app.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory", "")
    match = re.fullmatch(r"(\d+)([mg])", str(limit).lower())
    megabytes = int(match[1]) * (1024 if match[2] == "g" else 1) if match else 0
    if megabytes < memory.BUDGET_MB + 512:
        problems.append(f"the memory limit {limit!r} does not hold the caches' budget "
                        f"({memory.BUDGET_MB} MiB) and the server")
    folder = environment.get(store.FOLDER_VARIABLE)
    if not folder or not any(str(v).endswith(f":{folder}") for v in app.get("volumes") or []):
        problems.append("the replicas' on-disk store is not a volume they share")
    return problems


def deployment_problems(files: dict[str, str]) -> list[str]:
    """What is wrong with compose.yaml and deploy/haproxy.cfg, against the Dockerfile."""
    problems = []
    port = serve_port(instructions(files["Dockerfile"]))
    services = yaml.safe_load(files["compose.yaml"])["services"]
    built = [name for name, service in services.items() if "build" in service]
    app_name = built[0] if len(built) == 1 else None
    app = services.get(app_name, {})
    build = app.get("build", {})
    context = build.get("context", ".") if isinstance(build, dict) else build
    if app_name is None or context != ".":
        problems.append(f"not exactly one service built from this Dockerfile: {built}")
    replicas = app.get("deploy", {}).get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        problems.append(f"the site runs {replicas} replica(s), not several")
    if app.get("ports"):
        problems.append(f"the {app_name} service publishes ports of its own: {app['ports']}")
    problems += _replica_problems(app)

    proxies = [(name, s) for name, s in services.items() if s.get("ports") and name != app_name]
    if len(proxies) != 1:
        problems.append("not exactly one proxy service publishing a port: "
                        f"{[name for name, _ in proxies]}")
        return problems
    proxy_name, proxy = proxies[0]
    mounts = [[v.get("source"), v.get("target")] if isinstance(v, dict) else str(v).split(":")[:2]
              for v in proxy.get("volumes", [])]
    if ["./deploy/haproxy.cfg", HAPROXY_CONFIG] not in mounts:
        problems.append(f"the {proxy_name} service does not mount ./deploy/haproxy.cfg at "
                        f"{HAPROXY_CONFIG}")
    published = [p.get("target") if isinstance(p, dict)
                 else int(str(p).split(":")[-1].split("/")[0]) for p in proxy["ports"]]

    config = sections(files["deploy/haproxy.cfg"])
    defaults = config.get("defaults", [])
    frontends = [lines for name, lines in config.items() if name.startswith("frontend ")]
    binds = [int(d[1].rsplit(":", 1)[1]) for lines in frontends for d in lines if d[0] == "bind"]
    if not binds or published != binds:
        problems.append(f"the proxy publishes {published} but HAProxy binds {binds}")
    backend_name = next((d[1] for lines in frontends for d in lines if d[0] == "default_backend"),
                        None)
    backend = config.get(f"backend {backend_name}")
    if backend is None:
        problems.append(f"the frontend's default_backend {backend_name} is not defined")
        return problems

    balance = directive(backend, "balance") or directive(defaults, "balance")
    if balance and balance[1] == "source":
        problems.append("balance source hashes the client's address: a classroom behind one NAT "
                        "lands on one replica")
    cookie = directive(backend, "cookie")
    template = directive(backend, "server-template")
    servers = [d for d in backend if d[0] == "server"]
    if cookie is None or "insert" not in cookie:
        problems.append("no inserted cookie: sessions are not sticky")
    elif "indirect" not in cookie or "nocache" not in cookie:
        problems.append("the sticky cookie lacks indirect or nocache")
    elif template and ("dynamic" not in cookie or not directive(backend, "dynamic-cookie-key")):
        problems.append("server-template's servers have no cookie values: the cookie must be "
                        "dynamic, with a dynamic-cookie-key")
    elif any("cookie" not in server for server in servers):
        problems.append("a server line has no cookie value")

    if template is None:
        problems.append("no server-template: the replicas are not found by DNS")
    else:
        slots, target = int(template[2]), template[3]
        host, _, target_port = target.rpartition(":")
        if host != app_name or not target_port.isdigit() or int(target_port) != port:
            problems.append(f"the proxy targets {target}, not {app_name}:{port}")
        if isinstance(replicas, int) and slots < replicas:
            problems.append(f"{slots} server slots for {replicas} replicas")
        if "check" not in template:
            problems.append("the replicas are not health-checked")
        resolvers = template[template.index("resolvers") + 1] if "resolvers" in template else None
        nameservers = [d[2] for d in config.get(f"resolvers {resolvers}", [])
                       if d[0] == "nameserver"]
        if DOCKER_DNS not in nameservers:
            problems.append(f"the replicas are not resolved by Docker's DNS ({DOCKER_DNS}): "
                            f"{nameservers}")
        init = template[template.index("init-addr") + 1] if "init-addr" in template else ""
        if "none" not in init.split(","):
            problems.append("without init-addr none HAProxy refuses to start before the replicas "
                            "resolve")

    check = directive(backend, "option", "httpchk") or []
    if not check:
        problems.append("no HTTP health check on the replicas (option httpchk)")
    sent = directive(backend, "http-check", "send") or []
    uri = sent[sent.index("uri") + 1] if "uri" in sent else check[3] if len(check) > 3 else None
    if uri != HEALTH_PATH:
        problems.append(f"the proxy's health check does not ask {HEALTH_PATH}")

    def timeout(kind: str) -> float | None:
        found = directive(backend, "timeout", kind) or directive(defaults, "timeout", kind)
        return seconds(found[2]) if found else None

    missing = [kind for kind in ("connect", "client", "server") if timeout(kind) is None]
    if missing:
        problems.append(f"no timeout {', '.join(missing)}")
    tunnel = timeout("tunnel")
    if tunnel is None or tunnel < WEBSOCKET_QUIET_SECONDS:
        problems.append(f"timeout tunnel is {tunnel} s: a quiet websocket is cut before "
                        f"{WEBSOCKET_QUIET_SECONDS} s")
    return problems


# --- the tests ---------------------------------------------------------------------------

CHECKS: dict[str, Callable[[dict[str, str]], list[str]]] = {
    "Dockerfile": dockerfile_problems,
    ".dockerignore": dockerignore_problems,
    "deployment": deployment_problems,
}


@pytest.mark.parametrize("check", CHECKS)
def test_the_files_are_sound(check: str):
    assert CHECKS[check](real_files()) == []


#: (file, text in it, what replaces it, the check, words of the problem it must cause)
BREAKAGES = [
    ("Dockerfile", "FROM python:3.11-slim", "FROM python:3.11", "Dockerfile",
     "python:3.11-slim"),
    ("Dockerfile", "torch==2.13.0 --index", "torch==2.12.0 --index", "Dockerfile", "pins torch=="),
    ("Dockerfile", f" --index-url {CPU_INDEX}", "", "Dockerfile", "CPU wheel index"),
    ("Dockerfile", " \\\n && pip install -r requirements.txt", "", "Dockerfile",
     "requirements.txt is not installed"),
    ("Dockerfile", "COPY requirements.txt ./\n", "", "Dockerfile", "before it is copied"),
    ("Dockerfile", "COPY ui/ ui/\n", "", "Dockerfile", "ui is not copied"),
    ("Dockerfile", "COPY ui/ ui/", "COPY ui/ ./", "Dockerfile", "ui is not copied"),
    ("Dockerfile", "COPY .streamlit/ .streamlit/\n", "", "Dockerfile", ".streamlit is not copied"),
    ("Dockerfile", "COPY app.py ./", "COPY main.py ./", "Dockerfile", "no such file"),
    ("Dockerfile", "USER ddt\n", "", "Dockerfile", "runs as root"),
    ("Dockerfile", "USER ddt\n", "USER student\n", "Dockerfile", "never created"),
    ("Dockerfile", "EXPOSE 8501", "EXPOSE 8080", "Dockerfile", "EXPOSE"),
    ("Dockerfile", "--server.address=0.0.0.0", "--server.address=127.0.0.1", "Dockerfile",
     "0.0.0.0"),
    ("Dockerfile", f"localhost:8501{HEALTH_PATH}", "localhost:8501/healthz", "Dockerfile",
     "HEALTHCHECK does not ask"),
    ("Dockerfile", 'CMD ["python", "-c"', 'CMD ["curl", "-c"', "Dockerfile",
     "slim image may lack"),
    (".dockerignore", ".venv\n", "", ".dockerignore", ".venv is not excluded"),
    (".dockerignore", ".git\n", "", ".dockerignore", ".git is not excluded"),
    (".dockerignore", "tests\n", "tests\n**/*.pt\n", ".dockerignore",
     "assets/weights/dncnn.pt is needed"),
    ("compose.yaml", "replicas: 4", "replicas: 1", "deployment", "1 replica"),
    ("compose.yaml", 'OMP_NUM_THREADS: "1"', 'OMP_NUM_THREADS: "2"', "deployment",
     "OMP_NUM_THREADS is not 1"),
    ("compose.yaml", "memory: 5g", "memory: 2g", "deployment", "does not hold the caches"),
    ("compose.yaml", "      - store:/store\n", "", "deployment", "not a volume they share"),
    ("compose.yaml", "    restart: unless-stopped\n\n  proxy:",
     '    ports: ["8502:8501"]\n    restart: unless-stopped\n\n  proxy:', "deployment",
     "publishes ports"),
    ("compose.yaml", '"8501:8501"', '"8501:80"', "deployment", "HAProxy binds"),
    ("compose.yaml", "./deploy/haproxy.cfg:", "./haproxy.cfg:", "deployment", "does not mount"),
    ("deploy/haproxy.cfg", "balance leastconn", "balance source", "deployment", "one NAT"),
    ("deploy/haproxy.cfg", "httponly dynamic", "httponly", "deployment", "must be dynamic"),
    ("deploy/haproxy.cfg", "DDT_REPLICA insert", "DDT_REPLICA rewrite", "deployment",
     "not sticky"),
    ("deploy/haproxy.cfg", "insert indirect nocache", "insert", "deployment",
     "lacks indirect or nocache"),
    ("deploy/haproxy.cfg", "timeout tunnel 1h", "timeout tunnel 50s", "deployment",
     "timeout tunnel is 50 s"),
    ("deploy/haproxy.cfg", "    timeout tunnel 1h\n", "", "deployment", "timeout tunnel is None"),
    ("deploy/haproxy.cfg", "    timeout server 1m\n", "", "deployment", "no timeout server"),
    ("deploy/haproxy.cfg", "app:8501", "app:8080", "deployment", "the proxy targets"),
    ("deploy/haproxy.cfg", " 16 app:", " 2 app:", "deployment", "2 server slots"),
    ("deploy/haproxy.cfg", "    option httpchk\n", "", "deployment", "no HTTP health check"),
    ("deploy/haproxy.cfg", f"uri {HEALTH_PATH}", "uri /", "deployment",
     "health check does not ask"),
    ("deploy/haproxy.cfg", f"nameserver dns {DOCKER_DNS}", "nameserver dns 8.8.8.8:53",
     "deployment", "Docker's DNS"),
    ("deploy/haproxy.cfg", " init-addr none", "", "deployment", "init-addr none"),
    ("deploy/haproxy.cfg", " check inter", " inter", "deployment", "not health-checked"),
]


@pytest.mark.parametrize(("name", "old", "new", "check", "expected"), BREAKAGES,
                         ids=[f"{b[0]}:{b[4]}" for b in BREAKAGES])
def test_a_wrong_file_is_caught(name: str, old: str, new: str, check: str, expected: str):
    files = real_files()
    assert old in files[name], f"{name} no longer contains {old!r}: update this breakage"
    files[name] = files[name].replace(old, new, 1)
    problems = CHECKS[check](files)
    assert any(expected in problem for problem in problems), problems


def test_a_dockerignore_pattern_reaches_into_folders():
    assert ignored(["**/__pycache__"], "ui/__pycache__/scene.cpython-311.pyc")
    assert ignored(["checkpoints"], "checkpoints/drunet.ckpt")
    assert not ignored(["checkpoints"], "assets/checkpoints")
    assert not ignored(["*.pt"], "assets/weights/drunet.pt")  # as in Docker: the top level only
    assert ignored(["**/*.pt"], "assets/weights/drunet.pt")
    assert not ignored(["**/*.pt", "!assets/weights/*.pt"], "assets/weights/drunet.pt")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed here")
def test_haproxy_accepts_the_configuration():
    run = subprocess.run(["haproxy", "-c", "-dW", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
