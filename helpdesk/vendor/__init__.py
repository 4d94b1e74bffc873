"""Third-party front-end files, served from node_modules (installed by ``make assets``)."""
