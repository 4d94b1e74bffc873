from tests.web import compiled_translations, fresh_globals_per_request, make_ticket, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "make_ticket", "world"]
