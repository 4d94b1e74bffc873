from tests.web import compiled_translations, make_ticket, world

__all__ = ["compiled_translations", "make_ticket", "world"]
