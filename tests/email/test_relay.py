"""Marketplace relay mail: Amazon, Walmart, Shopify contact forms and eBay member messages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from channels.base import AutoKind, Direction, Party
from channels.email import parse_email
from channels.email.relay import AMAZON_SITES
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.tickets.models import Ticket
from tests.email.conftest import MAIL_DIR

# --- Amazon ------------------------------------------------------------------


def test_amazon_de_order_inquiry(fixture_mail):
    message = fixture_mail("amazon-de-order-inquiry.eml")

    assert message.platform == "amazon"
    assert message.channel == "email"
    assert message.site == "DE"
    assert message.language == "de"
    assert message.meta["currency"] == "EUR"
    assert message.meta["marketplace_id"] == "A1PA6795UKMFR9"
    assert message.meta["amazon_message_kind"] == "buyer_message"
    assert message.sender == Party(email="r4xk9m2tq7bz1lp@marketplace.amazon.de", name="Jonas Weber")
    assert message.order_refs == ("028-6614302-5519340",)  # the 13-digit EAN in the footer is not an order
    assert message.external_thread_id == "r4xk9m2tq7bz1lp@marketplace.amazon.de:028-6614302-5519340"
    assert message.stripped_text == (
        "Hallo,\n\nmeine Bestellung ist noch nicht angekommen. Die Sendungsverfolgung zeigt seit Freitag keinen "
        "Fortschritt. Können Sie bitte beim Versanddienstleister nachfragen?\n\nViele Grüße\nJonas Weber"
    )
    assert "commMgrTok" in message.body_text
    assert message.auto is None


def test_amazon_jp_presale_question_without_markers(fixture_mail):
    message = fixture_mail("amazon-jp-presale-question.eml")

    assert (message.platform, message.site, message.language) == ("amazon", "JP", "ja")
    assert message.meta["currency"] == "JPY"
    assert message.sender.name == "山田 花子"
    assert message.order_refs == ()
    assert message.external_thread_id == "h7m2k9q4x1b8c3d@marketplace.amazon.co.jp"
    assert message.stripped_text == (
        "こんにちは。この充電器はMacBook Air（2020年モデル）で使えますか？\n"
        "在庫があれば今週中に注文したいです。\n\nよろしくお願いします。\n山田"
    )
    assert message.body_html is not None


def test_amazon_html_only_message_with_a_buyer_photo(fixture_mail):
    message = fixture_mail("amazon-es-order-inquiry-html.eml")

    assert (message.site, message.language, message.meta["currency"]) == ("ES", "es", "EUR")
    assert message.sender.name == "Lucía García"
    assert message.order_refs == ("405-1234567-8901234",)
    assert message.stripped_text == (
        "Hola,\n\nHe recibido el pedido pero falta el cable. ¿Pueden enviarlo, por favor? "
        "Adjunto una foto del paquete.\n\nGracias,\nLucía"
    )
    assert [a.filename for a in message.attachments] == ["foto-paquete.jpg"]


def test_amazon_sa_arabic_message(fixture_mail):
    message = fixture_mail("amazon-sa-arabic-inquiry.eml")

    assert (message.site, message.language, message.meta["currency"]) == ("SA", "ar", "SAR")
    assert message.sender.name == "أحمد"
    assert message.order_refs == ("408-7654321-1234567",)
    assert message.stripped_text == "مرحبا،\nلم يصلني طلبي بعد. هل يمكنكم التحقق من حالة الشحنة؟\nشكرا لكم"


def test_amazon_delivery_failure_is_a_notification(fixture_mail):
    message = fixture_mail("amazon-delivery-failure.eml")

    assert message.platform == "amazon"
    assert message.site == "GB"
    assert message.auto is AutoKind.NOTIFICATION
    assert message.meta["amazon_message_kind"] == "delivery_failure"
    assert message.order_refs == ("202-5550123-7788990",)


@pytest.mark.parametrize(
    ("fixture", "alias", "order", "first_line"),
    [
        # the alias in To:
        ("amazon-uk-sent-copy-to-alias.eml", "j8w3k5n1q9z2r7t@marketplace.amazon.co.uk", "203-5550123-7788990",
         "Hello Oliver,"),
        # only in the text ("… an Jonas Weber (alias)"), the copy itself from an amazon.de address
        ("amazon-de-sent-copy-alias-in-body.eml", "r4xk9m2tq7bz1lp@marketplace.amazon.de", "028-6614302-5519340",
         "Hallo Herr Weber,"),
        # only in From:
        ("amazon-fr-sent-copy.eml", "k3d9w2p8q1z7x4m@marketplace.amazon.fr", "171-3345678-9012345", "Bonjour Camille,"),
    ],
)  # fmt: skip
def test_amazon_copy_of_the_sellers_message_is_an_agent_message_on_the_buyers_thread(
    fixture_mail, fixture, alias, order, first_line
):
    message = fixture_mail(fixture)

    assert message.platform == "amazon"
    assert message.meta["amazon_message_kind"] == "sent_copy"
    assert message.direction is Direction.OUT
    assert message.auto is None
    assert message.recipient == Party(email=alias)
    assert message.order_refs == (order,)
    assert message.external_thread_id == f"{alias}:{order}"  # what the buyer's own relay mail gets
    assert message.stripped_text.startswith(first_line)  # the seller's words, without Amazon's wrapper
    assert "commMgrTok" not in message.stripped_text


def test_amazon_copy_that_names_no_buyer_stays_a_notification(make_mail):
    raw = make_mail(
        "From: Amazon Seller Central <donotreply@amazon.com>",
        "To: support@seller.example",
        "Subject: Copy of your message to Kim (Order: 111-2223334-4445556)",
        body="------------- Begin message -------------\nIt ships today.\n------------- End message -------------\n",
    )
    message = parse_email(raw, account="a")

    assert message.meta["amazon_message_kind"] == "sent_copy"
    assert message.auto is AutoKind.NOTIFICATION
    assert message.direction is Direction.IN


def test_amazon_copy_threads_onto_the_buyers_ticket_and_answers_it(session, make_account):
    make_account(name="support", kind="email", platform=None)
    buyer = (MAIL_DIR / "amazon-de-order-inquiry.eml").read_bytes()
    copy = (MAIL_DIR / "amazon-de-sent-copy-alias-in-body.eml").read_bytes()

    ingest(session, [RawInput(buyer, "email", "support")], source="test")
    session.commit()
    ingest(session, [RawInput(copy, "email", "support")], source="test")
    session.commit()

    ticket = session.scalars(sa.select(Ticket)).one()  # one ticket, not a second (solved) one for the copy
    directions = [m.direction for m in ticket.messages]
    assert directions == ["in", "out"]
    reply = ticket.messages[1]
    assert reply.auto is None
    assert reply.stripped_text.startswith("Hallo Herr Weber,")
    assert ticket.first_response_at == reply.sent_at  # the copy stops the response clock
    assert ticket.status != "solved"


@pytest.mark.parametrize(
    ("tld", "site", "currency", "language"),
    [
        ("de", "DE", "EUR", "de"),
        ("co.uk", "GB", "GBP", "en"),
        ("co.jp", "JP", "JPY", "ja"),
        ("com", "US", "USD", "en"),
        ("com.mx", "MX", "MXN", "es"),
        ("com.br", "BR", "BRL", "pt"),
        ("fr", "FR", "EUR", "fr"),
        ("it", "IT", "EUR", "it"),
        ("pl", "PL", "PLN", "pl"),
        ("se", "SE", "SEK", "sv"),
        ("com.tr", "TR", "TRY", "tr"),
        ("eg", "EG", "EGP", "ar"),
        ("com.au", "AU", "AUD", "en"),
    ],
)
def test_amazon_site_from_the_relay_domain(make_mail, tld, site, currency, language):
    raw = make_mail(
        f'From: "Kim - Amazon Marketplace" <a1b2c3@marketplace.amazon.{tld}>',
        "Subject: Question (Order: 111-2223334-4445556)",
        body="------------- Begin message -------------\nHello\n------------- End message -------------\n",
    )
    message = parse_email(raw, account="a")

    assert (message.site, message.meta["currency"], message.language) == (site, currency, language)
    assert message.meta["marketplace_id"] == AMAZON_SITES[tld].marketplace_id
    assert message.sender.name == "Kim"
    assert message.stripped_text == "Hello"


def test_amazon_marketplace_link_parameter_names_the_site(make_mail):
    raw = make_mail(
        "From: Kim <a1b2c3@marketplace.amazon.com>",
        "Subject: Question",
        body="Hello\n\nhttps://sellercentral.amazon.com/messaging/reply?msg=1&mp=A2EUQ1WTGCTBG2&v=2\n",
    )
    message = parse_email(raw, account="a")

    assert (message.site, message.meta["currency"]) == ("CA", "CAD")


def test_amazon_buyer_message_is_never_classed_as_automatic(make_mail):
    raw = make_mail(
        "From: Kim <a1b2c3@marketplace.amazon.de>",
        "Precedence: bulk",
        "Subject: Frage",
        body="Hallo, ist der Artikel lieferbar?\n",
    )

    assert parse_email(raw, account="a").auto is None


def test_other_amazon_system_mail_is_a_notification(make_mail):
    raw = make_mail("From: seller-notification@amazon.de", "Subject: Rücksendung genehmigt", body="Eine Rücksendung.\n")
    message = parse_email(raw, account="a")

    assert message.auto is AutoKind.NOTIFICATION
    assert message.meta["amazon_message_kind"] == "system"


@pytest.mark.parametrize(
    "sender",
    ["deals@amazon-offers.example", "x@marketplace.amazon.example.com", "mailer@notshopify.com", "a@members.ebay.evil"],
)
def test_lookalike_domains_are_not_marketplaces(make_mail, sender):
    raw = make_mail(f"From: {sender}", "Subject: Order 111-2223334-4445556 #10042 27-13905-66214")
    message = parse_email(raw, account="a")

    assert message.platform is None
    assert message.order_refs == ()


# --- Walmart -----------------------------------------------------------------


def test_walmart_relay_reply(fixture_mail):
    message = fixture_mail("walmart-relay.eml")

    assert (message.platform, message.site, message.language) == ("walmart", "US", "en")
    assert message.meta["currency"] == "USD"
    assert message.sender == Party(email="3f9c0e1a7b2d4c5e8f9a0b1c2d3e4f50@relay.walmart.com", name="Dana Ortiz")
    assert message.order_refs == ("200011223344556", "1800412345678")  # not the Amazon-shaped number
    assert message.external_thread_id == "3f9c0e1a7b2d4c5e8f9a0b1c2d3e4f50@relay.walmart.com:200011223344556"
    assert message.stripped_text == (
        "Thanks. The box arrived today but the lamp shade is cracked (PO 1800412345678).\n"
        "Can you send a replacement? I found a similar item listed elsewhere as 113-4820571-3390215."
    )
    assert message.in_reply_to == "reply-1042@seller.example"


def test_walmart_placeholder_address_is_never_an_identity(make_mail):
    raw = make_mail("From: Walmart Customer <nocxemail@walmartone.com>", "Subject: Order 1800412345678")
    message = parse_email(raw, account="a")

    assert message.platform == "walmart"
    assert message.sender.email is None
    assert message.meta["placeholder_sender"] == "nocxemail@walmartone.com"
    assert message.order_refs == ("1800412345678",)


# --- Shopify -----------------------------------------------------------------


def test_shopify_contact_form_in_spanish(fixture_mail):
    message = fixture_mail("shopify-contact-form-es.eml")

    assert message.platform == "shopify"
    assert message.sender == Party(
        email="lucia.fernandez@example.es", name="Lucía Fernández", phone="+34 600 000 000", country="ES"
    )
    assert message.order_refs == ("#1042",)
    assert message.stripped_text == (
        "Hola, hice el pedido #1042 hace una semana y todavía no lo he recibido.\n"
        "¿Podrían decirme cuándo llegará?\n\nGracias"
    )
    assert message.language == "es"
    assert message.meta["shop_name"] == "Mi Tienda de Lámparas"
    assert message.meta["shopify_message_kind"] == "contact_form"
    assert "reply_to" not in message.meta


def test_shopify_contact_form_html_from_the_shops_own_address(fixture_mail):
    message = fixture_mail("shopify-contact-form-en-html.eml")

    assert message.platform == "shopify"
    assert message.sender == Party(email="oliver.smith@example.co.uk", name="Oliver Smith", country="GB")
    assert message.order_refs == ("#1043",)
    assert (
        message.stripped_text
        == "Hi, can I change the shipping address for order #1043?\nNew address: 12 High Street, Leeds"
    )
    assert message.language == "en"


def test_shopify_form_without_email_field_uses_reply_to(make_mail):
    raw = make_mail(
        "From: Lamp Works <mailer@shopify.com>",
        "Reply-To: Dana Ortiz <dana@example.com>",
        "Subject: New customer message on January 5, 2026 at 10:14 am",
        body="Name: Dana\nBody: Is order #10042 on its way?\n",
    )
    message = parse_email(raw, account="a")

    assert message.sender == Party(email="dana@example.com", name="Dana")
    assert message.order_refs == ("#10042",)


def test_shopify_mailer_without_a_customer_is_a_notification(make_mail):
    raw = make_mail("From: Shopify <mailer@shopify.com>", "Subject: [Lamp Works] Order #1042 placed by Dana")
    message = parse_email(raw, account="a")

    assert message.platform == "shopify"
    assert message.auto is AutoKind.NOTIFICATION
    assert message.meta["shopify_message_kind"] == "system"


def test_shopify_mailer_forwarding_a_customer_reply(make_mail):
    raw = make_mail(
        "From: Lamp Works <mailer@shopify.com>",
        "Reply-To: Dana Ortiz <dana@example.com>",
        "Subject: Re: Order #1042 confirmed",
        body="Can I still add a second lamp?\n",
    )
    message = parse_email(raw, account="a")

    assert message.sender == Party(email="dana@example.com", name="Dana Ortiz")
    assert message.order_refs == ("#1042",)
    assert message.auto is None


# --- eBay --------------------------------------------------------------------


def test_ebay_member_message_in_german(fixture_mail):
    message = fixture_mail("ebay-member-message-de.eml")

    assert (message.platform, message.site, message.language) == ("ebay", "DE", "de")
    assert message.meta["currency"] == "EUR"
    assert message.sender == Party(
        platform_id="alpine_finds_22", email="5c1e0a9d33b7f2e84a61@members.ebay.de", name="alpine_finds_22"
    )
    assert message.order_refs == ("27-13905-66214",)
    assert message.meta["item_ids"] == "395512340987"
    assert message.external_thread_id == "5c1e0a9d33b7f2e84a61@members.ebay.de:27-13905-66214"
    assert message.stripped_text == (
        "Hallo, können Sie diesen Artikel mit Sendungsverfolgung nach Graz (Österreich) schicken? "
        "Ich habe gestern bestellt.\n\nDanke & Grüße"
    )


def test_ebay_notification_with_the_member_alias_in_reply_to(fixture_mail):
    message = fixture_mail("ebay-member-message-en-notification.eml")

    assert (message.platform, message.site, message.meta["currency"]) == ("ebay", "US", "USD")
    assert message.sender == Party(
        platform_id="lamp_lover_77", email="9ab3c0d4e5f60718293a@members.ebay.com", name="lamp_lover_77"
    )
    assert message.order_refs == ("14-08821-33476",)
    assert message.meta["item_ids"] == "395512340988"
    assert (
        message.stripped_text == "Hi, does the lamp come with a US plug? Order 14-08821-33476 if that helps.\n\nThanks!"
    )
    assert message.auto is None


def test_ebay_system_mail_is_a_notification(make_mail):
    raw = make_mail("From: eBay <ebay@ebay.co.uk>", "Subject: Your invoice for December", body="Invoice attached.\n")
    message = parse_email(raw, account="a")

    assert (message.platform, message.site) == ("ebay", "GB")
    assert message.auto is AutoKind.NOTIFICATION
    assert message.meta["ebay_message_kind"] == "system"


# --- plain mail ----------------------------------------------------------------


def test_plain_mail_gets_no_platform_and_no_order_guesses(make_mail):
    raw = make_mail(
        "From: Dana <dana@example.com>",
        "Subject: Order #1042 and 113-4820571-3390215",
        body="My order #1042 (also 1800412345678 and 27-13905-66214) has not arrived.\n",
    )
    message = parse_email(raw, account="a")

    assert message.platform is None
    assert message.site is None
    assert message.order_refs == ()
    assert message.external_thread_id is None
    assert message.language == "en"
