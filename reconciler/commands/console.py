"""`smsops console`: the SMS settings page, served on loopback, backed by the config's git repository.

The web libraries are the optional extra ``smsops[console]``, imported only here, when the
command runs: the rest of the CLI never loads them.
"""

from __future__ import annotations

import errno
import socket

import click

from reconciler.commands.demo import use_demo_key
from reconciler.commands.options import config_dir_argument
from reconciler.errors import EXIT_OK, SmsopsError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
INSTALL_HINT = "install the console's libraries: pip install 'smsops[console]'"


@click.command(name="console")
@config_dir_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8400, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--read-only", is_flag=True, help="For auditors: show everything, change and send nothing.")
def command(config_dir: str, host: str, port: int, read_only: bool) -> int:
    """Serve the SMS settings page: channel settings, templates, Send Test SMS and history.

    Edits are saved as YAML files in the config directory and can be committed on a new branch; the
    provider is never changed from here (only "Send Test SMS" sends). The printed URL carries a
    random access token: the page refuses any request without it."""
    try:
        import uvicorn

        from reconciler.console.app import LOOPBACK_HOSTS, create_app
        from reconciler.console.security import new_token
    except ImportError as error:
        raise SmsopsError(f"smsops console needs {error.name}, which is not installed", hint=INSTALL_HINT) from None
    if host not in LOOPBACK:
        click.secho(f"warning: serving on {host}: anyone who can reach it and has the URL can use the console",
                    fg="yellow", err=True)  # fmt: skip
    use_demo_key(config_dir)
    listening = _listen(host, port)  # before the URL is printed: a busy port gets no dead URL
    token = new_token()
    app = create_app(config_dir, read_only=read_only, token=token, hosts=(*LOOPBACK_HOSTS, host))
    shown = f"[{host}]" if ":" in host else host
    mode = " (read-only)" if read_only else ""
    bound = listening.getsockname()[1]  # the port the system chose, with --port 0
    click.echo(f"smsops console{mode} for {config_dir}: open http://{shown}:{bound}/?token={token}")
    click.echo("Press Ctrl-C to stop.")
    config = uvicorn.Config(app, log_level="warning", server_header=False)
    uvicorn.Server(config).run(sockets=[listening])
    return EXIT_OK


def _listen(host: str, port: int) -> socket.socket:
    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SmsopsError(
                f"port {port} on {host} is in use (another smsops console?)",
                hint="stop the other one, or pass --port with a free port (--port 0 picks one)",
            ) from None
        raise SmsopsError(
            f"cannot listen on {host} port {port}: {error.strerror}", hint="check --host and --port"
        ) from None
