"""One module per translation service; :mod:`helpdesk.translation.registry` names them."""
