"""The demo's platforms, live: every demo store on its real connector against a loopback fake.

``serve --demo-fakes`` (what ``make run`` starts) runs, inside the serving
process, a fake mail server per demo mailbox, an eBay fake per eBay store,
one Amazon SP-API fake and one Shopify fake.  Each demo account is pointed
at its fake (address, fresh credentials, sealed like any other secret),
its cursor is reset (the fakes start empty) and it is switched on; from then
on the ordinary poller, watchers, webhook endpoint and delivery task do
everything, exactly as they would for a real store.

Generated traffic keeps the inbox moving: buyers write on eBay, Amazon
orders arrive with relay mail about some of them, Shopify orders arrive by
webhook with contact-form mail about some of them, and buyers answer the
replies agents send.  Nothing is pretended: a reply an agent sends is
delivered over SMTP or eBay's API to the fake, which records it.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

import sqlalchemy as sa
from flask import Flask

from channels.amazon.fake import AmazonFake
from channels.ebay.fake import FakeEbay
from channels.email.fake import EmailFake
from channels.fake import FakeServer
from channels.shopify.fake import ShopifyFake
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.channelaccounts.services import update_account
from helpdesk.demo.synthetic import TEXTS

log = logging.getLogger(__name__)

# Amazon marketplaces of the demo: marketplace id → (the mailbox its relay mail reaches, buyers' language)
AMAZON_MARKETS = {
    "A1PA6795UKMFR9": ("amazon-de", "de"),
    "A1RKKUPIHCS9HS": ("amazon-es", "es"),
    "ATVPDKIKX0DER": ("amazon-us", "en"),
    "A1VC38T7YXB528": ("amazon-jp", "ja"),
}
# one SP-API account (and fake) per region, as Amazon authorises them
AMAZON_REGIONS = {
    "amazon-eu": ("A1PA6795UKMFR9", "A1RKKUPIHCS9HS"),
    "amazon-na": ("ATVPDKIKX0DER",),
    "amazon-fe": ("A1VC38T7YXB528",),
}
MAILBOXES = ("amazon-de", "amazon-us", "amazon-jp", "amazon-es", "shop-support")
EBAY_STORES = {"ebay-uk": ("lampworks_uk", "EBAY_GB"), "ebay-de": ("lampworks_de", "EBAY_DE")}


@dataclass
class DemoPlatforms:
    """The running fakes of the demo, by the account each serves, and the traffic that drives them."""

    fakes: dict[str, FakeServer] = field(default_factory=dict)
    hook_base: str = ""
    every_s: float = 8.0
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    # --- start and stop ------------------------------------------------------------------------------

    def start(self, app: Flask) -> list[str]:
        """Start the fakes, connect the demo accounts to them, start traffic; what was connected."""
        from helpdesk.extensions import db

        with app.app_context():
            names = set(db.session.scalars(sa.select(ChannelAccount.name)))
            for name in MAILBOXES:
                if name in names:
                    self.fakes[name] = EmailFake(user=f"{name}@lampworks.example", shop="Lampworks").start()
            for name, (seller, marketplace) in EBAY_STORES.items():
                if name in names:
                    self.fakes[name] = FakeEbay(seller=seller, marketplace=marketplace).start()
            for name, markets in AMAZON_REGIONS.items():
                if name in names:
                    self.fakes[name] = AmazonFake(marketplace_ids=markets).start()
            if "shopify-store" in names:
                self.fakes["shopify-store"] = ShopifyFake().start()
            connected = self._connect(db.session)
            db.session.commit()
        self._seed()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)
        self._thread.start()
        return connected

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fake in self.fakes.values():
            fake.stop()

    def _connect(self, session: Any) -> list[str]:
        connected = []
        for name, fake in self.fakes.items():
            account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == name))
            settings, secrets_ = fake.account_settings()  # type: ignore[attr-defined]
            update_account(session, account, settings=settings, secrets=secrets_, enabled=True)
            account.cursor = None  # the fakes start empty each time
            account.next_poll_at = None
            account.health, account.health_detail, account.consecutive_failures = Health.UNKNOWN, None, 0
            connected.append(f"{account.display_name} ({account.kind})")
        return connected

    # --- traffic ------------------------------------------------------------------------------------

    def _seed(self) -> None:
        """A little of everything at once, so the first poll after start brings something."""
        for name in EBAY_STORES:
            if name in self.fakes:
                self.fakes[name].seed(messages=4, orders=4)  # type: ignore[attr-defined]
        for _ in range(6):
            self._amazon_order(mail=True)
        for _ in range(2):
            self._shopify_order(mail=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s * self.rng.uniform(0.5, 1.5)):
            try:
                self.step()
            except Exception:  # the demo's traffic must never take the server down
                log.exception("demo traffic failed")

    def step(self) -> None:
        """One piece of life on one platform."""
        roll = self.rng.random()
        if roll < 0.35:
            self._ebay()
        elif roll < 0.6:
            self._amazon_order(mail=self.rng.random() < 0.6)
        elif roll < 0.8:
            self._shopify_order(mail=self.rng.random() < 0.5)
        else:
            mailbox = self.fakes.get(self.rng.choice(MAILBOXES))
            if isinstance(mailbox, EmailFake):
                mailbox.tick(self.rng)  # mostly: a buyer answers a reply an agent sent

    def _ebay(self) -> None:
        name = self.rng.choice(list(EBAY_STORES))
        fake = self.fakes.get(name)
        if fake is None:
            return
        fake.tick(self.rng)
        push = getattr(fake, "push_to", None)
        if push is not None and self.hook_base:
            try:
                push(f"{self.hook_base}/hooks/ebay")
            except Exception as exc:  # a push is only a doorbell; the minutely poll still comes
                log.info("demo eBay notification not delivered: %s", exc)

    def _amazon_order(self, *, mail: bool) -> None:
        fake = self.fakes.get(self.rng.choice(list(AMAZON_REGIONS)))
        if not isinstance(fake, AmazonFake):
            return
        with fake.lock:
            order_id = fake.add_order(status="Unshipped")
            order = fake.orders[order_id]
            marketplace = order.public.get("MarketplaceId", "A1PA6795UKMFR9")
        if not order.email:
            return
        mailbox_name, language = AMAZON_MARKETS.get(marketplace, ("amazon-de", "de"))
        mailbox = self.fakes.get(mailbox_name)
        if mail and isinstance(mailbox, EmailFake):
            mailbox.deliver(relay_mail(order.name, order.email, order_id, language, mailbox.user, self.rng))

    def _shopify_order(self, *, mail: bool) -> None:
        fake = self.fakes.get("shopify-store")
        if not isinstance(fake, ShopifyFake):
            return
        with fake.lock:
            order = fake.store.new_order()
        if self.hook_base:
            try:
                fake.push_to(f"{self.hook_base}/hooks/shopify", topic="orders/create", order=order.name)
            except Exception as exc:  # the poll picks the order up anyway
                log.info("demo Shopify webhook not delivered: %s", exc)
        mailbox = self.fakes.get("shop-support")
        if mail and isinstance(mailbox, EmailFake) and order.email:
            who = f"{order.customer.first} {order.customer.last}" if order.customer else "Customer"
            mailbox.deliver(contact_form(who, order.email, order.name, mailbox.user, self.rng))


def _mail(
    sender: tuple[str, str], to: str, subject: str, text: str, *, reply_to: tuple[str, str] | None = None
) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr(sender)
    msg["To"] = to
    if reply_to is not None:
        msg["Reply-To"] = formataddr(reply_to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2] or "demo.example")
    msg.set_content(text)
    return msg.as_bytes()


def relay_mail(name: str, alias: str, order_id: str, language: str, to: str, rng: random.Random) -> bytes:
    """A buyer message as Amazon's relay mails it: from the buyer's alias, the order in the subject."""
    text = rng.choice(TEXTS.get(language, TEXTS["en"]))
    body = (
        f"------------- Begin message -------------\n\n{text}\n\n------------- End message -------------\n\n"
        f"To respond to this customer, reply to this e-mail.\n\n[commMgrTok:{secrets.token_hex(5).upper()}]\n"
    )
    subject = f"Order delivery inquiry from Amazon customer {name} (Order: {order_id})"
    return _mail((f"{name} - Amazon Marketplace", alias), to, subject, body)


def contact_form(name: str, email: str, order_name: str, to: str, rng: random.Random) -> bytes:
    """The store's contact form as Shopify mails it: the buyer in Reply-To and in the form fields."""
    text = rng.choice(
        [
            f"Hello, I ordered {order_name} last week and the tracking has not moved. Can you check?",
            f"Hi, can I still change the delivery address of {order_name}?",
            f"The lamp from {order_name} arrived with a cracked shade. What can you do?",
        ]
    )
    body = (
        "You received a new message from your online store's contact form.\n\n"
        f"Name: {name}\nEmail: {email}\nOrder number: {order_name}\nBody:\n{text}\n"
    )
    stamp = datetime.now(UTC).strftime("%B %d, %Y at %H:%M")
    subject = f"New customer message on {stamp}"
    return _mail(("Lampworks", "mailer@shopify.com"), to, subject, body, reply_to=(name, email))
