"""Reply templates and the rules replies must keep: engine, locale choice, platform policies.

No Flask here: the helpdesk's composer, API and send path use these modules.
"""
