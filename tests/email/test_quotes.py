"""Splitting the new text of a reply from quoted history and signatures."""

from __future__ import annotations

import pytest

from channels.email import parse_email, split_reply

NEW = "Thanks, the parcel arrived but the lid is cracked.\nCan you send a new one?"


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, Jan 5, 2026 at 9:14 AM Lamp Works <care@seller.example> wrote:\n> Your parcel has shipped.",
        "On Mon, Jan 5, 2026 at 9:14 AM Lamp Works <\ncare@seller.example> wrote:\n> Your parcel has shipped.",
        "On 5 Jan 2026, at 09:14, Lamp Works <care@seller.example> wrote:\n\n> Your parcel has shipped.",
        "Am Mo., 5. Jan. 2026 um 09:14 Uhr schrieb Lamp Works <care@seller.example>:\n> Ihr Paket ist unterwegs.",
        "Lamp Works <care@seller.example> schrieb am Mo., 5. Jan. 2026, 09:14:\n> Ihr Paket ist unterwegs.",
        "Le lun. 5 janv. 2026 à 09:14, Lamp Works <care@seller.example> a écrit :\n> Votre colis est parti.",
        "El lun, 5 ene 2026 a las 9:14, Lamp Works (<care@seller.example>) escribió:\n> Su paquete ha sido enviado.",
        "Il giorno lun 5 gen 2026 alle ore 09:14 Lamp Works <care@seller.example> ha scritto:\n> Spedito.",
        "Op ma 5 jan. 2026 om 09:14 schreef Lamp Works <care@seller.example>:\n> Verzonden.",
        "2026年1月5日(月) 9:14 Lamp Works <care@seller.example>:\n> 発送しました。",
        "Lamp Works さんは書きました:\n> 発送しました。",
        "在 2026年1月5日 09:14，Lamp Works <care@seller.example> 写道：\n> 已发货。",
        "-----Original Message-----\nFrom: Lamp Works\nSent: Monday, January 5, 2026 9:14 AM\nSubject: Order",
        "----- Ursprüngliche Nachricht -----\nVon: Lamp Works\nGesendet: Montag, 5. Januar 2026 09:14",
        "From: Lamp Works <care@seller.example>\nSent: Monday, January 5, 2026 9:14 AM\nTo: Dana\nSubject: Order",
        "________________________________\nVon: Lamp Works <care@seller.example>\nGesendet: Montag, 5. Januar 2026",
        "De : Lamp Works <care@seller.example>\nEnvoyé : lundi 5 janvier 2026 09:14\nÀ : Camille",
        "> Your parcel has shipped.\n> Lamp Works",
        "-- \nDana Ortiz\nSpringfield, OR",
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "Enviado desde mi iPhone",
        "iPhoneから送信",
    ],
)
def test_history_and_signatures_are_split_off(history):
    new, rest = split_reply(f"{NEW}\n\n{history}\n")

    assert new == NEW
    assert rest == history


def test_text_without_history_is_all_new():
    assert split_reply(NEW) == (NEW, "")


def test_empty_text():
    assert split_reply("") == ("", "")


def test_inline_answers_between_quotes_are_kept():
    text = "> Which colour do you want?\nThe blue one.\n> And the size?\nLarge, please."

    assert split_reply(text) == (text, "")


def test_bottom_posted_answer_keeps_the_quote_above_it():
    text = "On Mon, Jan 5, 2026 Lamp Works wrote:\n> Which colour?\n\nBlue, please."
    new, rest = split_reply(text)

    assert new == text  # nothing new would remain above the attribution, so all of it counts
    assert rest == ""


def test_bare_forward_counts_as_new_text():
    text = "-----Original Message-----\nFrom: Dana\nSent: Monday\n\nPlease help."

    assert split_reply(text) == (text, "")


def test_forwarded_message_marker_is_not_history():
    text = "Please see below.\n\n---------- Forwarded message ---------\nFrom: Dana <dana@example.com>\nHello"

    assert split_reply(text) == (text, "")


def test_words_that_look_like_markers_inside_text_are_not_cut():
    text = "On Monday I ordered a lamp.\nFrom: my home address in Leeds\nIt never arrived."

    assert split_reply(text) == (text, "")


def test_crlf_text_is_split():
    new, rest = split_reply("Hello\r\n\r\n-- \r\nDana\r\n")

    assert new == "Hello"
    assert rest == "-- \nDana"


def test_html_blockquote_history_is_split(make_mail):
    raw = make_mail(
        "From: dana@example.com",
        "Content-Type: text/html; charset=utf-8",
        body=(
            "<div>Blue, please.</div><div class=gmail_quote>"
            "<div>On Mon, Jan 5, 2026 at 9:14 AM Lamp Works &lt;care@seller.example&gt; wrote:</div>"
            "<blockquote>Which colour?</blockquote></div>"
        ),
    )
    message = parse_email(raw, account="a")

    assert message.body_text.endswith("> Which colour?")
    assert message.stripped_text == "Blue, please."


def test_stripped_text_is_none_when_nothing_was_split(make_mail):
    message = parse_email(make_mail("From: dana@example.com", body="Just a question.\n"), account="a")

    assert message.stripped_text is None


def test_stripped_text_of_a_reply(fixture_mail):
    message = fixture_mail("outlook-reply-de.eml")

    assert message.stripped_text == "Hallo,\n\ndie Lampe flackert leider. Foto anbei.\n\nGrüße\nLena Becker"
    assert "Ihre Bestellung wurde versandt" in message.body_text


@pytest.mark.parametrize(
    "history",
    [
        "SENT FROM MY IPHONE",
        "   Sent from my iPad",
        "\u3000Sent from my iPad",
        "----- ORIGINAL MESSAGE -----\nFROM: Lamp Works\nSENT: Monday",
        "ON MON, JAN 5, 2026 AT 9:14 AM LAMP WORKS <care@seller.example> WROTE:\n> Your parcel has shipped.",
        "*From:* Lamp Works <care@seller.example>\n*Sent:* Monday, January 5, 2026 9:14 AM",
        "---- 原始邮件 ----\n发件人: Lamp Works",
        "差出人: Lamp Works <care@seller.example>\n送信日時: 2026年1月5日 9:14",
    ],
)
def test_markers_are_found_in_any_case_and_after_indentation(history):
    new, rest = split_reply(f"{NEW}\n\n{history}\n")

    assert new == NEW
    assert rest == history


def test_a_rule_of_dashes_alone_is_not_history():
    text = f"{NEW}\n\n{'-' * 70}\nSent via the shop's messaging service.\n{'-' * 70}"

    assert split_reply(text) == (text, "")


def test_a_marker_on_the_first_line_leaves_everything_new():
    text = "Sent from my iPhone\n\nThe lid is cracked."

    assert split_reply(text) == (text, "")


def test_a_long_text_without_markers_is_all_new():
    text = "\n".join(f"Line {number} of the installer log, nothing quoted here." for number in range(20000))

    assert split_reply(text) == (text, "")
