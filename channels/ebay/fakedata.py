"""Invented eBay data for the loopback fake: listings, buyers, buyer texts in several languages, record builders.

Every value is made up; the field names and nesting are eBay's (Message
API, Fulfillment API, Post-Order API, Trading notifications).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

from channels.ebay.signing import notification_signature
from channels.ebay.trading import NS, Q, iso

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SQ = "{" + SOAP + "}"


stamp = iso  # eBay's time format: UTC, milliseconds, ``Z``


@dataclass(frozen=True, slots=True)
class Listing:
    item_id: str
    title: str
    sku: str
    price: str


@dataclass(frozen=True, slots=True)
class Buyer:
    username: str
    name: str
    country: str
    city: str
    postal_code: str
    language: str
    marketplace: str

    @property
    def relay(self) -> str:
        """The anonymised ``…@members.ebay.com`` address eBay shows for a buyer (20 hex characters)."""
        return hashlib.sha256(self.username.encode()).hexdigest()[:20] + "@members.ebay.com"


LISTINGS = (
    Listing("395512340987", "Brass desk lamp, 1970s", "LAMP-BR-70", "64.50"),
    Listing("395512341154", "Enamel coffee pot, blue", "POT-EN-BL", "28.00"),
    Listing("395512342208", "Walnut chess set, hand carved", "CHESS-WN", "119.00"),
    Listing("395512343391", "Vinyl record crate, oak", "CRATE-OK", "42.90"),
    Listing("395512344476", "Teak wall clock, Danish style", "CLOCK-TK", "87.25"),
    Listing("395512345530", "Copper kettle, 1.5 l", "KETTLE-CU", "55.00"),
    Listing("395512346617", "Linen table runner, sage", "RUNNER-LN", "19.95"),
    Listing("395512347702", "Glass pendant light, amber", "PEND-AM", "73.40"),
)

BUYERS = (
    Buyer("alpine_finds_22", "Katrin Moser", "AT", "Graz", "8010", "de", "EBAY_AT"),
    Buyer("north_sea_vintage", "Pieter de Vries", "NL", "Utrecht", "3511", "nl", "EBAY_NL"),
    Buyer("cote_bleue_77", "Camille Girard", "FR", "Nantes", "44000", "fr", "EBAY_FR"),
    Buyer("lagoon.treasures", "Giulia Bianchi", "IT", "Verona", "37121", "it", "EBAY_IT"),
    Buyer("sol_y_sombra_es", "Lucía Romero", "ES", "Valencia", "46001", "es", "EBAY_ES"),
    Buyer("wisla_collector", "Marek Nowak", "PL", "Kraków", "30-001", "pl", "EBAY_PL"),
    Buyer("harbour_lights_uk", "Oliver Grant", "GB", "Bristol", "BS1 4DJ", "en", "EBAY_GB"),
    Buyer("prairie_pickers", "Dana Whitfield", "US", "Omaha", "68102", "en", "EBAY_US"),
)

_FIRST = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper", "koi", "lumen")
_SECOND = ("finds", "picks", "attic", "trader", "nest", "market", "hoard", "corner", "lane", "bazaar", "loft", "shelf")

TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Question about shipping", "Hello, can you ship the {item} to {city} with tracking?"),
        ("Combined postage?", "Hi! If I buy the {item} and another item, can you combine postage?"),
        ("Where is my parcel?", "Hi, my {item} has not arrived yet. Could you check the tracking please?"),
        ("Condition", "Is there any damage on the {item} that is not visible in the photos?"),
    ),
    "de": (
        ("Frage zum Versand", "Hallo, können Sie die {item} nach {city} mit Sendungsverfolgung schicken?"),
        ("Rechnung", "Guten Tag, ich bräuchte für die {item} eine Rechnung mit ausgewiesener MwSt."),
        ("Lieferzeit", "Wie lange dauert der Versand der {item} nach {city} ungefähr?"),
    ),
    "fr": (
        ("Question sur la livraison", "Bonjour, pouvez-vous envoyer {item} à {city} avec suivi ?"),
        ("Colis non reçu", "Bonjour, je n'ai toujours pas reçu {item}. Pouvez-vous vérifier le suivi ?"),
    ),
    "it": (
        ("Domanda sulla spedizione", "Buongiorno, è possibile spedire {item} a {city} con tracciamento?"),
        ("Pacco", "Salve, il pacco con {item} non è ancora arrivato. Potete controllare?"),
    ),
    "es": (
        ("Pregunta sobre el envío", "Hola, ¿pueden enviar {item} a {city} con seguimiento?"),
        ("Estado del pedido", "Hola, ¿cuándo enviarán {item}? Gracias & saludos."),
    ),
    "nl": (
        ("Vraag over verzending", "Hallo, kunt u {item} naar {city} versturen met track & trace?"),
        ("Levering", "Goedemiddag, mijn {item} is nog niet binnen. Kunt u even kijken?"),
    ),
    "pl": (
        ("Pytanie o wysyłkę", "Dzień dobry, czy mogą Państwo wysłać {item} do {city} z numerem śledzenia?"),
        ("Przesyłka", "Dzień dobry, {item} jeszcze nie dotarł. Czy mogą Państwo sprawdzić?"),
    ),
}

RETURN_REASONS = (
    ("DEFECTIVE_ITEM", "SNAD", "It stopped working after two days."),
    ("NOT_AS_DESCRIBED", "SNAD", "The colour is very different from the photos."),
    ("ARRIVED_DAMAGED", "SNAD", "The box was crushed and the glass is broken."),
    ("NO_LONGER_NEED_ITEM", "REMORSE", ""),
)


def generated_buyer(n: int) -> Buyer:
    """The n-th invented buyer beyond the named ones (stable for a given n)."""
    if n < len(BUYERS):
        return BUYERS[n]
    base = BUYERS[n % len(BUYERS)]
    name = f"{_FIRST[n % len(_FIRST)]}_{_SECOND[(n // len(_FIRST)) % len(_SECOND)]}_{n}"
    return Buyer(name, base.name, base.country, base.city, base.postal_code, base.language, base.marketplace)


def buyer_text(rng: random.Random, buyer: Buyer, listing: Listing) -> tuple[str, str]:
    subject, body = rng.choice(TEXTS.get(buyer.language, TEXTS["en"]))
    return subject, body.format(item=listing.title, city=buyer.city)


def order_id(n: int) -> str:
    """Order ids in the non-parsable ``NN-NNNNN-NNNNN`` shape eBay uses since 2019."""
    return f"{10 + n % 89:02d}-{(13905 + n * 7) % 100000:05d}-{(66214 + n * 13) % 100000:05d}"


def order(
    number: str, n: int, buyer: Buyer, listing: Listing, seller: str, marketplace: str, at: datetime, currency: str
) -> dict[str, Any]:
    quantity = 1 + n % 3 if n % 5 == 0 else 1
    total = (Decimal(listing.price) * quantity).quantize(Decimal("0.01"))
    address = {"city": buyer.city, "postalCode": buyer.postal_code, "countryCode": buyer.country}
    return {
        "orderId": number,
        "legacyOrderId": number,
        "creationDate": stamp(at),
        "lastModifiedDate": stamp(at),
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "sellerId": seller,
        "buyer": {
            "username": buyer.username,
            "buyerRegistrationAddress": {"fullName": buyer.name, "email": buyer.relay, "contactAddress": address},
        },
        "pricingSummary": {"total": {"value": str(total), "currency": currency}},
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "salesRecordReference": str(1000 + n),
        "fulfillmentStartInstructions": [
            {
                "fulfillmentInstructionsType": "SHIP_TO",
                "shippingStep": {"shipTo": {"fullName": buyer.name, "contactAddress": address, "email": buyer.relay}},
            }
        ],
        "lineItems": [
            {
                "lineItemId": f"1007{1283950012 + n * 31:010d}",
                "legacyItemId": listing.item_id,
                "sku": listing.sku,
                "title": listing.title,
                "quantity": quantity,
                "lineItemCost": {"value": str(total), "currency": currency},
                "total": {"value": str(total), "currency": currency},
                "listingMarketplaceId": marketplace,
                "purchaseMarketplaceId": buyer.marketplace,
                "lineItemFulfillmentStatus": "NOT_STARTED",
            }
        ],
    }


def return_request(
    return_id: str, placed: dict[str, Any], seller: str, reason: tuple[str, str, str], at: datetime
) -> dict[str, Any]:
    line = placed["lineItems"][0]
    code, kind, comment = reason
    info: dict[str, Any] = {
        "item": {
            "itemId": line["legacyItemId"],
            "transactionId": line["lineItemId"],
            "returnQuantity": line["quantity"],
            "itemTitle": line["title"],
        },
        "type": "MONEY_BACK",
        "reason": code,
        "reasonType": kind,
        "creationDate": {"value": stamp(at), "formattedValue": at.strftime("%b %d, %Y")},
    }
    if comment:
        info["comments"] = {"content": comment}
    return {
        "returnId": return_id,
        "orderId": placed["orderId"],
        "buyerLoginName": placed["buyer"]["username"],
        "sellerLoginName": seller,
        "currentType": "MONEY_BACK",
        "state": "RETURN_STARTED",
        "status": "RETURN_REQUESTED",
        "creationInfo": info,
        "sellerResponseDue": {
            "activityDue": "SELLER_APPROVE_REQUEST",
            "respondByDate": {"value": stamp(at + timedelta(days=3))},
        },
    }  # fmt: skip


def inquiry(inquiry_id: str, placed: dict[str, Any], seller: str, at: datetime) -> dict[str, Any]:
    line = placed["lineItems"][0]
    return {
        "inquiryId": inquiry_id,
        "itemId": line["legacyItemId"],
        "transactionId": line["lineItemId"],
        "buyer": placed["buyer"]["username"],
        "seller": seller,
        "inquiryStatusEnum": "OPEN",
        "claimAmount": {
            "value": float(placed["pricingSummary"]["total"]["value"]),
            "currency": line["total"]["currency"],
        },
        "respondByDate": {"value": stamp(at + timedelta(days=3))},
        "creationDate": {"value": stamp(at)},
        "lastModifiedDate": {"value": stamp(at)},
    }  # fmt: skip


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, Q + name)
    if text is not None:
        child.text = text
    return child


def notification(
    event: str,
    *,
    timestamp: str,
    recipient: str,
    keys: tuple[str, str, str],
    message: dict[str, Any] | None,
    listing_id: str | None,
    signature: str | None = None,
) -> bytes:
    """A Trading platform notification envelope, signed as eBay signs it (or with ``signature``)."""
    envelope = etree.Element(SQ + "Envelope", nsmap={"soapenv": SOAP})
    header = etree.SubElement(envelope, SQ + "Header")
    credentials = etree.SubElement(header, Q + "RequesterCredentials", nsmap={"ebl": NS})
    sig = etree.SubElement(credentials, Q + "NotificationSignature")
    sig.text = signature if signature is not None else notification_signature(timestamp, *keys)
    body = etree.SubElement(envelope, SQ + "Body")
    call = "GetMemberMessagesResponse" if event == "AskSellerQuestion" else "GetMyMessagesResponse"
    response = etree.SubElement(body, Q + call, nsmap={None: NS})
    for name, value in (
        ("Timestamp", timestamp),
        ("Ack", "Success"),
        ("Version", "1415"),
        ("NotificationEventName", event),
        ("RecipientUserID", recipient),
    ):
        _sub(response, name, value)
    if message is not None and event == "AskSellerQuestion":
        exchange = _sub(_sub(response, "MemberMessage"), "MemberMessageExchange")
        _sub(_sub(exchange, "Item"), "ItemID", listing_id or "")
        question = _sub(exchange, "Question")
        for name, key in (("SenderID", "senderUsername"), ("Subject", "subject"), ("Body", "messageBody")):
            _sub(question, name, str(message.get(key) or ""))
        _sub(question, "MessageID", str(message.get("messageId") or ""))
        _sub(exchange, "CreationDate", str(message.get("createdDate") or ""))
    elif message is not None:
        entry = _sub(_sub(response, "Messages"), "Message")
        _sub(entry, "Sender", str(message.get("senderUsername") or ""))
        _sub(entry, "RecipientUserID", recipient)
        _sub(entry, "Subject", str(message.get("subject") or ""))
        _sub(entry, "MessageID", str(message.get("messageId") or ""))
        _sub(entry, "ExternalMessageID", str(message.get("messageId") or ""))
        _sub(entry, "ItemID", listing_id or "")
        _sub(entry, "ReceiveDate", str(message.get("createdDate") or ""))
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
