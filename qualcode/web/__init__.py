"""The browser workspace (``qualcode serve``): read documents, code by selecting text, review
proposals, edit the codebook and drill from any count to its passages, over the same library
calls as the command line.

    from qualcode import Project
    from qualcode.web import bind

    served = bind(Project.find(), port=0, coder="王")
    print(served.url)      # http://127.0.0.1:PORT/?token=…
    served.run()

Modules: ``app`` (routes, the JSON actions, templates), ``security`` (token, CSRF, headers),
``reader`` (segments and chips of a document), ``drill`` (the passages behind a count),
``documents`` (the documents page and metadata edits), ``i18n`` (every UI string, zh/en),
``server`` (binding and running uvicorn); ``templates/`` and ``static/`` ship as package data.
"""
from __future__ import annotations

from qualcode.web.app import Workspace, create_app
from qualcode.web.server import LOCAL_HOSTS, Served, bind

__all__ = ["LOCAL_HOSTS", "Served", "Workspace", "bind", "create_app"]
