"""The Trading API's XML: building requests, reading ``Ack`` and ``Errors``, safely.

Every Trading response carries ``Ack`` (``Success``, ``Warning`` — still a
success — or ``Failure``) and zero or more ``Errors``; a failure arrives with
HTTP 200.  XML from outside is parsed without entity resolution or network
access, so a hostile document cannot read files or call out.  Request text
goes through lxml's serialiser, which escapes ``&``, ``<`` and ``>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

NS = "urn:ebay:apis:eBLBaseComponents"
Q = "{" + NS + "}"
COMPATIBILITY_LEVEL = "1415"

#: Error codes that mean the token itself was refused (931 invalid, 932 hard-expired, 21916984/21917053 IAF).
TOKEN_ERRORS = frozenset({"931", "932", "21916984", "21917053"})
#: The application's call quota is spent (arrives inside HTTP 200).
QUOTA_ERRORS = frozenset({"518"})

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def parse(raw: bytes) -> etree._Element:
    """The root element of ``raw``; ValueError when it is not well-formed XML."""
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise ValueError("empty XML document")
    return root


def text(element: etree._Element | None, path: str) -> str | None:
    """The stripped text at ``path`` (``Q``-qualified steps), None when absent or empty."""
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def to_bytes(element: etree._Element) -> bytes:
    """One element as standalone XML (what quarantine keeps of a record)."""
    return etree.tostring(element, encoding="utf-8")


def iso(value: datetime) -> str:
    """eBay's time format (Trading ``xs:dateTime`` and REST alike): UTC, milliseconds, ``Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class TradingError:
    code: str
    severity: str
    short: str
    long: str

    def __str__(self) -> str:
        return f"{self.code} {self.long or self.short}".strip()


def ack(root: etree._Element) -> str:
    return text(root, Q + "Ack") or ""


def errors(root: etree._Element) -> list[TradingError]:
    """The ``Errors`` a response carries (warnings included)."""
    return [
        TradingError(
            text(e, Q + "ErrorCode") or "",
            text(e, Q + "SeverityCode") or "Error",
            text(e, Q + "ShortMessage") or "",
            text(e, Q + "LongMessage") or "",
        )
        for e in root.iter(Q + "Errors")
    ]


def request(call: str, fields: list[tuple[str, object]]) -> bytes:
    """``<{call}Request>`` with ``fields``: (name, text) or (name, nested fields) pairs, in order."""
    root = etree.Element(Q + call + "Request", nsmap={None: NS})
    _fill(root, fields)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _fill(parent: etree._Element, fields: list[tuple[str, object]]) -> None:
    for name, value in fields:
        child = etree.SubElement(parent, Q + name)
        if isinstance(value, list):
            _fill(child, value)
        else:
            child.text = str(value)


def get_member_messages(start: datetime, end: datetime, page: int, per_page: int) -> bytes:
    """Every member message created in [start, end] (questions and contact messages), one page."""
    return request(
        "GetMemberMessages",
        [
            ("MailMessageType", "All"),
            ("StartCreationTime", iso(start)),
            ("EndCreationTime", iso(end)),
            ("Pagination", [("EntriesPerPage", per_page), ("PageNumber", page)]),
        ],
    )


def add_member_message_rtq(item_id: str, parent_id: str, recipient: str, body: str) -> bytes:
    """An answer to a buyer's question (RTQ: respond to question), never shown on the listing."""
    return request(
        "AddMemberMessageRTQ",
        [
            ("ItemID", item_id),
            (
                "MemberMessage",
                [
                    ("Body", body),
                    ("DisplayToPublic", "false"),
                    ("EmailCopyToSender", "false"),
                    ("ParentMessageID", parent_id),
                    ("RecipientID", recipient),
                ],
            ),
        ],
    )
