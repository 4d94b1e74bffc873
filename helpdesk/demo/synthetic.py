"""Deterministic synthetic marketplace traffic for the demo, tests and benchmarks.

A stream looks like real multi-marketplace traffic: several stores on
several platforms, buyers writing in their own language, repeat customers,
a share of messages continuing earlier threads and order numbers in each
platform's own format.  The same seed always gives the same stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from channels.base import InboundMessage, Party


@dataclass(frozen=True)
class StoreSpec:
    name: str
    kind: str
    platform: str
    site: str
    language: str
    display_name: str
    currency: str
    by_mail: bool = False  # buyers write by e-mail (relay or contact form): threads follow Message-IDs


STORES: tuple[StoreSpec, ...] = (
    StoreSpec("amazon-de", "email", "amazon", "DE", "de", "Amazon.de – Lampworks", "EUR", by_mail=True),
    StoreSpec("amazon-us", "email", "amazon", "US", "en", "Amazon.com – Lampworks", "USD", by_mail=True),
    StoreSpec("amazon-jp", "email", "amazon", "JP", "ja", "Amazon.co.jp – Lampworks", "JPY", by_mail=True),
    StoreSpec("ebay-uk", "ebay", "ebay", "GB", "en", "eBay UK – lampworks_uk", "GBP"),
    StoreSpec("ebay-de", "ebay", "ebay", "DE", "de", "eBay DE – lampworks_de", "EUR"),
    StoreSpec("aliexpress-global", "aliexpress", "aliexpress", "ES", "es", "AliExpress – Lampworks Store", "USD"),
    StoreSpec("shopee-sg", "shopee", "shopee", "SG", "en", "Shopee SG – lampworks.sg", "SGD"),
    StoreSpec("mercadolibre-mx", "mercadolibre", "mercadolibre", "MX", "es", "Mercado Libre MX", "MXN"),
    StoreSpec("shop-support", "email", None, "AE", "ar", "support@lampworks.example", "AED", True),  # type: ignore[arg-type]
)

FIRST = [
    "Jonas",
    "Mia",
    "Lukas",
    "Hannah",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Yuki",
    "Haruto",
    "Sakura",
    "Ren",
    "Lucía",
    "Mateo",
    "Sofía",
    "Diego",
    "Wei",
    "Li",
    "Fatima",
    "Omar",
    "Layla",
    "Chloe",
    "Arjun",
    "Priya",
]
LAST = [
    "Weber",
    "Müller",
    "Schmidt",
    "Smith",
    "Brown",
    "Tanaka",
    "Suzuki",
    "Sato",
    "García",
    "López",
    "Martínez",
    "Chen",
    "Wang",
    "Al-Sayed",
    "Haddad",
    "Tan",
    "Lim",
    "Kumar",
    "Rossi",
    "Dubois",
    "Nowak",
    "Silva",
]

TEXTS = {
    "en": [
        "Hi, my parcel has not arrived yet. Could you check the tracking?",
        "The charger stopped working after two days. Can I get a replacement?",
        "Can you ship to my office address instead?",
        "Is this lamp compatible with 110V?",
        "I would like to return the item, it is the wrong colour.",
    ],
    "de": [
        "Hallo, mein Paket ist noch nicht angekommen. Können Sie die Sendungsverfolgung prüfen?",
        "Das Ladegerät funktioniert nach zwei Tagen nicht mehr. Bekomme ich Ersatz?",
        "Ich möchte den Artikel zurückgeben, die Farbe stimmt nicht.",
        "Wann wird meine Bestellung verschickt?",
    ],
    "ja": [
        "こんにちは、荷物がまだ届いていません。追跡番号を確認していただけますか？",
        "充電器が2日で動かなくなりました。交換できますか？",
        "注文をキャンセルしたいです。",
    ],
    "es": [
        "Hola, mi paquete todavía no ha llegado. ¿Pueden revisar el seguimiento?",
        "El cargador dejó de funcionar. ¿Me pueden enviar otro?",
        "¿Tiene garantía este producto?",
    ],
    "ar": ["مرحبا، لم يصل طردي بعد. هل يمكنكم التحقق من التتبع؟", "أريد إرجاع المنتج لأنه معيب."],
}
SUBJECTS = {
    "en": ["Where is my order?", "Broken charger", "Shipping address", "Question about voltage", "Return request"],
    "de": ["Wo ist meine Bestellung?", "Defektes Ladegerät", "Rücksendung", "Versand"],
    "ja": ["注文について", "商品が届かない", "返品について"],
    "es": ["¿Dónde está mi pedido?", "Cargador roto", "Garantía"],
    "ar": ["أين طلبي؟", "إرجاع المنتج"],
}


def order_number(platform: str, rng: random.Random) -> str:
    """An order number in the platform's documented shape."""
    if platform == "amazon":
        return f"{rng.randint(100, 999)}-{rng.randint(0, 9_999_999):07d}-{rng.randint(0, 9_999_999):07d}"
    if platform == "ebay":
        return f"{rng.randint(10, 99)}-{rng.randint(0, 99_999):05d}-{rng.randint(0, 99_999):05d}"
    if platform == "aliexpress":
        return f"81{rng.randint(0, 10**14 - 1):014d}"
    if platform == "shopee":
        return f"2601{rng.randint(1, 28):02d}" + "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8)
        )
    if platform == "mercadolibre":
        return f"2{rng.randint(0, 10**15 - 1):015d}"
    return f"#{rng.randint(1000, 99999)}"


@dataclass
class _Buyer:
    store: StoreSpec
    party: Party
    threads: list[tuple[str, str, str | None, str]]  # (thread id, last external id, order, subject)


def stream(
    count: int,
    *,
    seed: int = 7,
    reply_share: float = 0.3,
    customers: int | None = None,
    start: datetime | None = None,
    spacing: timedelta = timedelta(seconds=17),
    stores: tuple[StoreSpec, ...] = STORES,
) -> Iterator[InboundMessage]:
    """Yield ``count`` buyer messages ``spacing`` apart; ``reply_share`` of them continue earlier threads."""
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    n_customers = customers or max(1, count // 3)
    buyers: list[_Buyer] = []
    for i in range(n_customers):
        store = stores[i % len(stores)]
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if store.by_mail:
            tld = {"DE": "de", "US": "com", "JP": "co.jp", "ES": "es"}.get(store.site, "com")
            email = (
                f"b{seed}x{i:06d}@marketplace.amazon.{tld}"
                if store.platform == "amazon"
                else f"buyer{seed}.{i}@mail.example"
            )
            party = Party(email=email, name=name, country=store.site)
        else:
            party = Party(platform_id=f"{store.platform}_buyer_{seed}_{i}", name=name, country=store.site)
        buyers.append(_Buyer(store, party, []))

    for n in range(count):
        buyer = rng.choice(buyers)
        store = buyer.store
        lang = store.language
        sent_at = start + spacing * n + timedelta(seconds=rng.randint(0, 9))
        external_id = f"{store.name}-m{seed}-{n}"
        if buyer.threads and rng.random() < reply_share:
            thread_id, last_id, order, subject = rng.choice(buyer.threads)
            in_reply_to = last_id if store.by_mail else None
            buyer.threads.remove((thread_id, last_id, order, subject))
            subject = subject if subject.startswith("Re: ") else f"Re: {subject}"
        else:
            order = order_number(store.platform or "shop", rng) if rng.random() < 0.8 else None
            subject = rng.choice(SUBJECTS[lang])
            if order and store.platform == "amazon":
                subject = f"{subject} (Order: {order})"
            thread_id = f"{store.name}-t{seed}-{n}"
            in_reply_to = None
        body = rng.choice(TEXTS[lang])
        yield InboundMessage(
            channel=store.kind,
            account=store.name,
            external_id=external_id,
            sent_at=sent_at,
            sender=buyer.party,
            body_text=body,
            platform=store.platform,
            external_thread_id=None if store.by_mail else thread_id,
            subject=subject,
            body_html=f"<p>{body}</p>" if store.by_mail and n % 4 == 0 else None,
            language=lang,
            site=store.site,
            order_refs=(order,) if order else (),
            in_reply_to=in_reply_to,
        )
        buyer.threads.append((thread_id, external_id, order, subject))


def add_store_accounts(
    session: Session, stores: tuple[StoreSpec, ...] = STORES, *, kind: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Create a ChannelAccount per store spec (not committed); returns them by name.

    ``kind`` overrides every spec's connector kind (the demo uses its sandbox connector).
    """
    from helpdesk.channelaccounts.models import ChannelAccount

    accounts = {}
    for spec in stores:
        account = ChannelAccount(
            name=spec.name,
            kind=kind or spec.kind,
            platform=spec.platform,
            display_name=spec.display_name,
            site=spec.site,
            default_language=spec.language,
            **fields,
        )
        session.add(account)
        accounts[spec.name] = account
    session.flush()
    return accounts
