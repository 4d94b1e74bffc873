"""WSGI entry point: ``flask --app wsgi …`` and production servers load ``app`` from here."""

import gc

from helpdesk import create_app

app = create_app()
# Everything built so far (modules, the app, table metadata) lives as long as the process.  Moving
# it out of the collector's reach makes every full collection cheaper for the rest of the run;
# a long import spent about 8 % of its time re-scanning these objects.
gc.freeze()
