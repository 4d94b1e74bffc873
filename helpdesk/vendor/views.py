"""``/vendor/<name>``: a short whitelist of files from node_modules, nothing else.

Front-end libraries come from the npm registry pinned in package.json and
are never committed; this route maps a public name onto one installed file
so the CSP can stay ``script-src 'self'``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_file
from werkzeug.wrappers import Response

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
FILES = {
    "socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",  # the API's browsable docs
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}


@bp.get("/<name>")
def asset(name: str) -> Response:
    relative = FILES.get(name)
    path = NODE_MODULES / relative if relative else None
    if path is None or not path.is_file():
        abort(404)
    mimetype = "text/css" if name.endswith(".css") else "text/javascript"
    return send_file(path, mimetype=mimetype, max_age=86400)
