"""The MIME walk: which parts are the body, which are attachments.

Rules, in the order a reader of real mail would want them:

* ``multipart/alternative``: plain text from the plain version, HTML from the
  richest version; if there is no plain version the text is derived from
  the HTML.  Apple Watch and AMP versions are ignored.
* ``multipart/related``: the root part is the body, the others are inline
  resources (images referenced by ``cid:``).
* ``multipart/signed``: the signed content; signature parts are dropped.
* other multiparts (``mixed``, ``report``, ``digest``, unknown): every child
  in order, so several text parts are joined.
* a text part is body text unless it is marked as an attachment or carries
  a file name (except at the top level, where a name alone does not make
  the only part an attachment).  Everything else is an attachment, attached
  messages re-serialised byte for byte.
* a part whose text has no charset inherits the charset parameter of the
  nearest enclosing multipart, which some mailers put there.
* attachments over the size limit are listed in ``dropped`` instead.
"""

from __future__ import annotations

import binascii
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from email.policy import Compat32
from functools import lru_cache

from channels.base import AttachmentData
from channels.email.charsets import decode_bytes
from channels.email.headers import clean_text, header_params, normalise_space
from channels.email.htmltext import html_charset, html_to_text
from channels.email.tree import MimePart

__all__ = ["MailContent", "collect_content"]

_MAX_DEPTH = 40
_MAX_FILENAME = 200
_SIGNATURE_TYPES = frozenset(
    {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
)
_SKIPPED_TYPES = _SIGNATURE_TYPES | {
    "application/pgp-encrypted",
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/global-disposition-notification",
    "message/feedback-report",
    "message/external-body",
}
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_SKIPPED_ALTERNATIVES = frozenset({"text/watch-html", "text/x-amp-html"})
_EMBEDDED_MESSAGES = frozenset({"message/rfc822", "message/global", "message/news"})
_BODY_TEXT_SUBTYPES = frozenset({"plain", "html", "enriched", "richtext"})
_STDLIB_DECODED = frozenset({"quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue"})
_STDLIB_BINARY = _STDLIB_DECODED - {"quoted-printable"}
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_PATH_SEPARATORS = re.compile(r"[\\/]")
_TAGS = re.compile(r"<[^>]{0,200}>")
# Python's built-in table only, so generated names do not depend on the host's mime.types.
_MIME_TYPES = mimetypes.MimeTypes()


@dataclass
class MailContent:
    """What the MIME walk collected, before it becomes a message."""

    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[AttachmentData] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    charset: str | None = None
    crlf: bool = False

    def body_text(self) -> str:
        """The text of the body: plain parts joined, else text derived from the HTML."""
        texts = [text for text in self.texts if _has_text(text)]
        if texts:
            joined = "\n\n".join(text.strip("\n") for text in texts)
        elif self.htmls:
            joined = html_to_text("\n".join(self.htmls))
        else:
            return ""
        return clean_text(joined).strip()


def _has_text(text: str) -> bool:
    """``bool(text.strip())`` without copying a long text."""
    return bool(text) and not text.isspace()


def collect_content(tree: MimePart, *, max_attachment_bytes: int, crlf: bool = False) -> MailContent:
    """Walk the parts of a mail and sort them into body texts, HTML and attachments.

    ``crlf`` says whether the source used CRLF line ends, so attached
    messages are written back with the same ones.
    """
    content = MailContent(crlf=crlf)
    _walk(tree, content, max_attachment_bytes, depth=0)
    return content


def _walk(
    part: MimePart,
    content: MailContent,
    limit: int,
    *,
    depth: int,
    related: bool = False,
    inherited: str | None = None,
) -> None:
    """Collect texts and attachments below ``part``.

    ``inherited`` is the nearest enclosing multipart's charset parameter,
    which some mailers set there instead of on the text part.
    """
    ctype = _content_type(part)
    if ctype in _SKIPPED_TYPES:
        return
    multipart = part.message.is_multipart()
    if ctype in _EMBEDDED_MESSAGES or (multipart and ctype.startswith("message/")):
        _attach(part, ctype, content, limit, related=related)
        return
    if not multipart:
        _leaf(part, ctype, content, limit, related=related, root=depth == 0, inherited=inherited)
        return
    if depth >= _MAX_DEPTH:
        return
    children = part.children
    subtype = ctype.partition("/")[2]
    charset = _charset(part) or inherited
    if subtype == "alternative":
        _alternative(children, content, limit, depth=depth, inherited=charset)
    elif subtype == "related" and children:
        root = _related_root(part, children)
        _walk(root, content, limit, depth=depth + 1, inherited=charset)
        for child in children:
            if child is not root:
                _walk(child, content, limit, depth=depth + 1, related=True, inherited=charset)
    else:
        for child in children:
            _walk(child, content, limit, depth=depth + 1, related=related, inherited=charset)


def _alternative(
    children: list[MimePart], content: MailContent, limit: int, *, depth: int, inherited: str | None
) -> None:
    """Plain text from the plain alternative, HTML from the richest one."""
    versions = []
    for child in children:
        if child.content_type in _SKIPPED_ALTERNATIVES:
            continue
        version = MailContent(crlf=content.crlf)
        _walk(child, version, limit, depth=depth + 1, inherited=inherited)
        versions.append(version)
        content.charset = content.charset or version.charset
    plain = next((v for v in versions if any(_has_text(t) for t in v.texts)), None)
    html = next((v for v in reversed(versions) if v.htmls), None)
    if plain is not None:
        content.texts.extend(plain.texts)
    elif html is not None:
        content.texts.append(html_to_text("\n".join(html.htmls)))
    if html is not None:
        content.htmls.extend(html.htmls)
    seen: set[tuple[str, int, str | None]] = set()
    for version in versions:
        content.dropped.extend(version.dropped)
        for attachment in version.attachments:
            key = (attachment.filename, len(attachment.content), attachment.content_id)
            if key not in seen:
                seen.add(key)
                content.attachments.append(attachment)


def _related_root(part: MimePart, children: list[MimePart]) -> MimePart:
    start = part.param("start")
    if isinstance(start, str) and start.strip():
        wanted = start.strip().strip("<>")
        for child in children:
            if (child.get("content-id") or "").strip().strip("<>") == wanted:
                return child
    return children[0]


def _leaf(
    part: MimePart, ctype: str, content: MailContent, limit: int, *, related: bool, root: bool, inherited: str | None
) -> None:
    main, _, subtype = ctype.partition("/")
    disposition = _disposition(part)
    filename = _filename(part, content.charset)
    if main == "multipart":
        main, subtype = "text", "plain"  # a multipart without usable boundary: its body is all we have
    is_body = disposition != "attachment" and (root or not filename)
    if main == "text" and subtype in _BODY_TEXT_SUBTYPES and is_body:
        data = _payload_bytes(part)
        charset = _charset(part)
        if subtype == "html" and charset is None:
            charset = html_charset(data)
        charset = charset or inherited
        content.charset = content.charset or charset
        text = decode_bytes(data, charset)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if subtype == "html":
            content.htmls.append(clean_text(text))
        elif subtype in {"enriched", "richtext"}:
            content.texts.append(_TAGS.sub("", text))
        else:
            content.texts.append(text)
        return
    _attach(part, ctype, content, limit, related=related, filename=filename, disposition=disposition)


def _attach(
    part: MimePart,
    ctype: str,
    content: MailContent,
    limit: int,
    *,
    related: bool,
    filename: str | None = None,
    disposition: str | None = None,
) -> None:
    """Add ``part`` (of media type ``ctype``, see :func:`_content_type`) as an attachment."""
    if part.message.is_multipart():
        data = _embedded_bytes(part, crlf=content.crlf)
        if not data or data.isspace():
            return
        filename = filename or _filename(part, content.charset)
        disposition = disposition or _disposition(part)
    else:
        data = _payload_bytes(part)
    if not filename:
        filename = _default_filename(ctype, len(content.attachments) + len(content.dropped) + 1)
    if len(data) > limit:
        content.dropped.append(f"{filename} ({ctype}, {len(data)} bytes)")
        return
    content_id = _content_id(part)
    inline = disposition == "inline" or (disposition is None and related and content_id is not None)
    content.attachments.append(
        AttachmentData(filename=filename, content_type=ctype, content=data, content_id=content_id, inline=inline)
    )


def _content_type(part: MimePart) -> str:
    """The media type, cut down to its valid prefix (``application/pdf name=…`` happens)."""
    match = _MEDIA_TYPE.match(part.content_type)
    return match.group(0) if match else "application/octet-stream"


class _VerbatimPolicy(Compat32):
    """Writes header fields exactly as they were read, original folding included.

    Re-folding every header through ``email.header.Header`` is the slowest
    part of re-serialising an attached message, and it would change the bytes.
    """

    def fold_binary(self, name: str, value: object) -> bytes:
        text = value if isinstance(value, str) else str(value)
        return f"{name}: {text}{self.linesep}".encode("utf-8", "surrogateescape")


_VERBATIM = _VerbatimPolicy()
_VERBATIM_CRLF = _VERBATIM.clone(linesep="\r\n")
_WRITE_ERRORS = (LookupError, UnicodeError, ValueError, TypeError, RecursionError)
# BytesGenerator dispatches on ``_handle_<main>_<sub>``, then ``_handle_<main>``
# (dashes as underscores), then writes the payload as text; these are its handlers.
_GENERATOR_HANDLERS = {
    "multipart_signed": "multipart",
    "message_delivery_status": "delivery-status",
    "multipart": "multipart",
    "message": "message",
    "text": "text",
}


class _UnusualShape(Exception):
    """A part the fast writer does not reproduce; the stdlib generator writes it instead."""


def _embedded_bytes(part: MimePart, *, crlf: bool) -> bytes:
    """An attached message re-serialised; the parser keeps no raw slice of it.

    The bytes are those ``as_bytes`` gives with the verbatim policy.  A
    direct writer produces them for the shapes the parser creates, several
    times faster than the generator, which clones its policy and buffers
    every part; anything else still goes through ``as_bytes``.
    """
    inner = part.message.get_payload()
    target = part.children[0] if isinstance(inner, list) and len(inner) == 1 and part.children else part
    out: list[bytes] = []
    try:
        _write_part(target, out, "\r\n" if crlf else "\n", depth=0)
        return b"".join(out)
    except _UnusualShape:
        pass
    except _WRITE_ERRORS:
        return b""
    try:
        return target.message.as_bytes(policy=_VERBATIM_CRLF if crlf else _VERBATIM)
    except _WRITE_ERRORS:
        return b""


def _write_part(part: MimePart, out: list[bytes], linesep: str, *, depth: int) -> None:
    """Append ``part`` to ``out`` as ``BytesGenerator`` with the verbatim policy writes it."""
    if depth > _MAX_DEPTH:
        raise _UnusualShape  # the generator's own recursion limit decides
    message = part.message
    fields = "".join(f"{name}: {value}{linesep}" for name, value in message.raw_items())
    out.append(f"{fields}{linesep}".encode("utf-8", "surrogateescape"))
    handler = _generator_handler(part.content_type)
    payload = message._payload  # what the generator writes; get_payload() would decode 8-bit text
    if handler == "text":
        if isinstance(payload, str):
            out.append(_with_line_ends(payload, linesep))
        elif payload is not None:
            raise _UnusualShape
        return
    children = part.children
    if not isinstance(payload, list) or len(children) != len(payload):  # the tree keeps only Message objects
        raise _UnusualShape
    if handler == "message":
        if not children:
            raise _UnusualShape
        _write_part(children[0], out, linesep, depth=depth + 1)
    elif handler == "delivery-status":
        _write_status_blocks(children, out, linesep, depth=depth)
    else:
        _write_multipart(part, children, out, linesep, depth=depth)


@lru_cache(maxsize=256)
def _generator_handler(ctype: str) -> str:
    main, _, sub = ctype.partition("/")
    handler = _GENERATOR_HANDLERS.get(f"{main}_{sub}".replace("-", "_"))
    return handler or _GENERATOR_HANDLERS.get(main.replace("-", "_"), "text")


def _write_multipart(part: MimePart, children: list[MimePart], out: list[bytes], linesep: str, *, depth: int) -> None:
    message = part.message
    boundary = part.boundary()
    if not boundary:
        raise _UnusualShape  # the generator would invent a random one
    if message.preamble is not None:
        out.append(_with_line_ends(message.preamble, linesep) + linesep.encode("ascii"))
    delimiter = f"{linesep}--{boundary}{linesep}".encode("ascii", "surrogateescape")
    out.append(delimiter[len(linesep) :])
    for index, child in enumerate(children):
        if index:
            out.append(delimiter)
        _write_part(child, out, linesep, depth=depth + 1)
    out.append(f"{linesep}--{boundary}--{linesep}".encode("ascii", "surrogateescape"))
    if message.epilogue is not None:
        out.append(_with_line_ends(message.epilogue, linesep))


def _write_status_blocks(blocks: list[MimePart], out: list[bytes], linesep: str, *, depth: int) -> None:
    """The blocks of a delivery-status part, one blank line between them and none after the last."""
    newline = linesep.encode("ascii")
    written = []
    for block in blocks:
        buffer: list[bytes] = []
        _write_part(block, buffer, linesep, depth=depth + 1)
        text = b"".join(buffer)
        written.append(text[: -len(newline)] if text.endswith(newline) else text)
    out.append(newline.join(written))


def _with_line_ends(text: str, linesep: str) -> bytes:
    """``text`` with every CR, LF or CRLF as ``linesep``, as the generator writes bodies."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if linesep != "\n":
        text = text.replace("\n", linesep)
    return text.encode("ascii", "surrogateescape")


def _payload_bytes(part: MimePart) -> bytes:
    """The decoded body of a leaf part, tolerating bogus transfer encodings.

    The stdlib decodes the transfer encodings it recognises; variants it
    does not (``base-64``, ``quoted-printable;``, ``Quoted-printable ``) are
    decoded here from the raw bytes it returns unchanged.
    """
    stdlib_cte = (part.get("content-transfer-encoding") or "").lower()
    data = _stdlib_payload(part.message, stdlib_cte)
    if not isinstance(data, bytes):
        return b""
    if stdlib_cte in _STDLIB_DECODED:
        return data
    cte = stdlib_cte.split(";", 1)[0].strip().strip("\"'")
    if cte in {"base64", "base-64", "b64"}:
        return _base64(data)
    if cte in {"quoted-printable", "quoted_printable", "quotedprintable", "qp"} or cte.startswith("quoted-print"):
        return binascii.a2b_qp(data)
    return data


def _stdlib_payload(message: Message, cte: str) -> object:
    """``message.get_payload(decode=True)``, whose transfer encoding field (lowercased) is ``cte``.

    For text and quoted-printable bodies the stdlib's steps are taken here:
    it would look the field up again and encode the whole body twice.
    """
    payload = message._payload  # what get_payload() starts from
    if not isinstance(payload, str) or cte in _STDLIB_BINARY:
        return message.get_payload(decode=True)
    try:
        data = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # pragma: no cover - parsed bytes are ASCII or surrogate escapes
        return message.get_payload(decode=True)
    return binascii.a2b_qp(data) if cte == "quoted-printable" else data


def _base64(raw: bytes) -> bytes:
    try:
        return binascii.a2b_base64(raw)
    except binascii.Error:
        cleaned = _BASE64_JUNK.sub(b"", raw.split(b"=", 1)[0])
        if len(cleaned) % 4 == 1:
            cleaned = cleaned[:-1]
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            return binascii.a2b_base64(cleaned)
        except binascii.Error:  # pragma: no cover - cleaned input is always valid
            return b""


def _charset(part: MimePart) -> str | None:
    if "charset" not in (part.get("content-type") or "").lower():
        return None  # get_param() parses every parameter; most parts name no charset
    value = part.param("charset")
    if isinstance(value, tuple):
        value = value[2]
    if not isinstance(value, str):
        return None
    value = value.strip().strip("\"'")
    return value or None


def _disposition(part: MimePart) -> str | None:
    value = part.raw("content-disposition")  # get() would mangle 8-bit bytes
    if value is None:
        return None
    token = value.split(";", 1)[0].strip().lower()
    return token if token in {"inline", "attachment"} else None


def _filename(part: MimePart, hint: str | None) -> str | None:
    raw = None
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = part.raw(header)  # with 8-bit bytes intact, to be decoded with the hint
        if value is not None and "name" in value.lower():  # parsing the parameters costs more than this test
            raw = header_params(value, hint).get(param)
            if raw and raw.strip():
                break
    if not raw or not raw.strip():
        return None
    name = normalise_space(raw)
    name = _PATH_SEPARATORS.split(name)[-1].strip(" .")
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) < 10:
            name = stem[: _MAX_FILENAME - len(extension) - 1] + dot + extension
        name = name[:_MAX_FILENAME]
    return name or None


def _default_filename(ctype: str, number: int) -> str:
    if ctype in _EMBEDDED_MESSAGES:
        return f"message-{number}.eml"
    extension = _MIME_TYPES.guess_extension(ctype, strict=False) or (".txt" if ctype.startswith("text/") else ".bin")
    return f"attachment-{number}{extension}"


def _content_id(part: MimePart) -> str | None:
    value = part.get("content-id")
    if value is None:
        return None
    cleaned = value.strip().strip("<>").strip()
    return cleaned or None
