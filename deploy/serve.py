"""Run the production stack for `make serve`: nginx in front, gunicorn behind it on a unix socket.

nginx buffers each request and response, so slow clients cannot tie up gunicorn's sync workers.
Both run as children of this process; when either stops, or on SIGTERM/SIGINT, both are stopped.
Reads HOST and PORT (where nginx listens), FORWARDED_ALLOW_IPS (proxies whose X-Forwarded-For and
X-Forwarded-Proto are believed), SERVE_RUNTIME_DIR, NGINX, NGINX_ACCESS_LOG, GUNICORN_TIMEOUT and
everything gunicorn.conf.py reads.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
PAGES = ROOT / "pnetsite" / "pages"


class ConfigurationError(Exception):
    pass


def trusted_proxies(raw: str) -> list[str]:
    """FORWARDED_ALLOW_IPS as networks nginx understands ("*" is every address)."""
    networks: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            networks += ["0.0.0.0/0", "::/0"]
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigurationError(f"FORWARDED_ALLOW_IPS: {item!r} is not an address or network") from None
    return networks


def listen_address(host: str, port: str) -> str:
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"PORT must be a port number, not {port!r}")
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def render(env: dict[str, str], runtime: Path) -> str:
    """The nginx configuration for ``env``, from deploy/nginx.conf."""
    proxies = trusted_proxies(env.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))
    timeout = int(env.get("GUNICORN_TIMEOUT") or "30")
    values = {
        "RUNTIME": str(runtime),
        "SOCKET": str(runtime / "gunicorn.sock"),
        "LISTEN": listen_address(env.get("HOST") or "127.0.0.1", env.get("PORT") or "8000"),
        "PAGES": str(PAGES),
        "TIMEOUT": str(timeout + 5),
        "ACCESS_LOG": env.get("NGINX_ACCESS_LOG") or "off",
        "SET_REAL_IP_FROM": "\n".join(f"    set_real_ip_from {network};" for network in proxies),
        "TRUSTED_PROXIES": "\n".join(f"        {network} 1;" for network in proxies),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def gunicorn_env(env: dict[str, str], runtime: Path) -> dict[str, str]:
    """gunicorn listens only on the socket nginx proxies to; nginx is the one proxy the app sees."""
    if len(str(runtime / "gunicorn.sock")) > 100:
        raise ConfigurationError(f"SERVE_RUNTIME_DIR is too long a path for a unix socket: {runtime}")
    count = env.get("DJANGO_TRUSTED_PROXY_COUNT", "").strip()
    if count not in {"", "1"}:
        raise ConfigurationError(
            "DJANGO_TRUSTED_PROXY_COUNT must be 1 (or unset) under make serve: nginx resolves the"
            " client address from FORWARDED_ALLOW_IPS and passes the app exactly one."
        )
    return {**env, "GUNICORN_BIND": f"unix:{runtime / 'gunicorn.sock'}", "DJANGO_TRUSTED_PROXY_COUNT": "1"}


def stop(process: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    env = dict(os.environ)
    runtime = Path(env.get("SERVE_RUNTIME_DIR") or ROOT / "run").resolve()
    nginx = env.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    try:
        runtime.mkdir(parents=True, exist_ok=True)
        # Started as root, nginx's workers run as an unprivileged user: they must reach the socket.
        runtime.chmod(0o711)
        config = runtime / "nginx.conf"
        config.write_text(render(env, runtime), encoding="utf-8")
        app_env = gunicorn_env(env, runtime)
    except ConfigurationError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    (runtime / "gunicorn.sock").unlink(missing_ok=True)

    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    gunicorn = subprocess.Popen(  # noqa: S603 - our own command line, no outside input
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "pnetsite.wsgi:application",
            "-c",
            "gunicorn.conf.py",
        ],
        cwd=ROOT,
        env=app_env,
    )
    proxy = subprocess.Popen(  # noqa: S603 - the configured nginx binary and our rendered config
        [nginx, "-p", str(runtime), "-c", str(config), "-e", "stderr"], cwd=runtime, env=env
    )
    try:
        while not stopping and gunicorn.poll() is None and proxy.poll() is None:
            time.sleep(0.2)
    finally:
        # nginx first (a fast stop), so no request reaches a gunicorn that is going away.
        stop(proxy, signal.SIGTERM, 10)
        stop(gunicorn, signal.SIGTERM, 30)
    if stopping:
        return 0
    return gunicorn.returncode or proxy.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
