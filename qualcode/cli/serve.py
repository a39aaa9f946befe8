"""``qualcode serve``: the browser workspace over this project (qualcode.web)."""
from __future__ import annotations

import click

from qualcode.cli.options import CODER_HELP, open_project


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this computer lets others on the network reach the workspace.")
@click.option("--coder", help=CODER_HELP)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Interface language (switchable in the page).")
@click.option("--open", "open_browser", is_flag=True, help="Open the workspace in the default browser.")
@click.pass_context
def serve(ctx, port, host, coder, lang, open_browser):
    """Read, code, review and drill down in a browser; prints the URL with its access token."""
    from qualcode.web import LOCAL_HOSTS, bind

    project = open_project(ctx)
    if host not in LOCAL_HOSTS:
        click.echo(f"Warning: listening on {host}: anyone who can reach this address and has the URL "
                   "(with its token) can read and change the project. The connection is not encrypted.", err=True)
    served = bind(project, host=host, port=port, coder=coder, lang=lang)
    click.echo(f"qualcode workspace for {project.name} (coder {served.workspace.coder}); Ctrl-C stops it.")
    click.echo(served.url)
    if open_browser:
        import webbrowser

        webbrowser.open(served.url)
    served.run()
    click.echo("Stopped.")


COMMANDS = [serve]
