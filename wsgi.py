"""WSGI entry point: ``flask --app wsgi …`` and production servers load ``app`` from here."""

import gc
import sys

try:
    from helpdesk import create_app
    from helpdesk.config import ConfigError

    try:
        app = create_app()
    except ConfigError as exc:
        # An operator's mistake in a HELPDESK_* variable, not a bug: its one-line message says what to change,
        # and a traceback would only bury it.  Exit status 2, like any other invalid usage of a command.
        print(f"Configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
except KeyboardInterrupt:
    # Ctrl+C while a command (``serve`` above all) was still loading the app: stop quietly, with the
    # shell's usual status for an interrupted command.
    raise SystemExit(130) from None
# Everything built so far (modules, the app, table metadata) lives as long as the process.  Moving
# it out of the collector's reach makes every full collection cheaper for the rest of the run;
# a long import spent about 8 % of its time re-scanning these objects.
gc.freeze()
