"""Plain text from HTML mail bodies."""

from __future__ import annotations

import pytest

from channels.email.htmltext import MAX_HTML_CHARS, html_charset, html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
        ("<div>a</div><div>b</div>", "a\nb"),
        ("<ul><li>one<li>two</ul>", "- one\n- two"),
        (
            "<table><tr><td>Order</td><td>1042</td></tr><tr><td>Total</td><td>9 €</td></tr></table>",
            "Order 1042\nTotal 9 €",
        ),
        ("<p>caf&eacute; &amp; cr&egrave;me &#8364;5 &lt;b&gt; &nbsp;x</p>", "café & crème €5 <b> x"),
        ("<p>spread\n   over\tlines</p>", "spread over lines"),
        ("<pre>  keep\n    this</pre>after", "keep\n    this\n\nafter"),
        ("<p>New</p><blockquote>old<blockquote>older</blockquote></blockquote>", "New\n\n> old\n>\n> > older"),
        ("<html><head><title>T</title><style>p{color:red}</style></head><body><p>Hi</p></body></html>", "Hi"),
        ("<p>Hi</p><script>var tracking = 1;</script><noscript>no js</noscript>", "Hi"),
        ("<p>Hi<!-- a comment --> there</p>", "Hi there"),
        ("", ""),
        ("plain text, no tags", "plain text, no tags"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_text_after_an_unclosed_head_is_kept():
    assert html_to_text("<head><title>x</title>Thanks for the quick reply") == "Thanks for the quick reply"


def test_a_paragraph_left_open_in_a_table_cell_ends_with_the_cell():
    html = "<table><tr><td><p>Can't read this email? Click here</td></tr><tr><td>Issue#: 7</td></tr></table>"

    assert html_to_text(html) == "Can't read this email? Click here\n\nIssue#: 7"


def test_deeply_nested_and_very_long_markup_is_read():
    nested = "<div>" * 5000 + "deep" + "</div>" * 5000
    long = "<p>" + "x" * (MAX_HTML_CHARS + 100) + "</p>"

    assert html_to_text(nested) == "deep"
    assert html_to_text(long) == "x" * (MAX_HTML_CHARS - 3)


def test_broken_input_never_raises():
    for html in ("<", "<p", "</", "<!--", "&", "<p>\x00</p>", "a\ud800b", "<a href='x", "<<<>>>"):
        assert isinstance(html_to_text(html), str)


def test_meta_charset_is_sniffed():
    assert html_charset(b'<html><head><meta charset="windows-1252"></head>') == "windows-1252"
    assert html_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">') == "iso-8859-2"
    assert html_charset(b"<p>none</p>") is None
