"""The SLA policies the helpdesk ships with, one per platform and thread kind.

These mirror what each marketplace measures (or, where it publishes nothing,
a cautious guess) so a new store account starts with targets that keep its
seller metrics healthy.  Every value is only a default: the store can edit
it.  ``confidence`` says how sure we are of the platform rule behind a
default and is what the user documentation shows next to it.

A policy names a calendar *kind*, not a calendar: the concrete calendar is
made from the store's own calendar by :meth:`PolicyDefault.calendar_for`.

* ``24/7`` - every hour counts, weekends and holidays included, as the
  platforms that measure in calendar hours do.
* ``business_hours`` - the store's opening hours, holidays and closures.
* ``business_days`` - whole weekdays (Monday to Friday, 00:00-24:00) in the
  store's time zone minus public holidays, for rules stated as "N business
  days": three business days are 72 h on it, so a case opened on Friday at
  15:00 is due on Wednesday at 15:00.

``holidays`` says whose public holidays stop the clock: ``"none"``,
``"store"`` (the store calendar's country) or an ISO country code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from helpdesk.sla.calendar import BusinessCalendar

__all__ = [
    "GENERIC_PLATFORM",
    "POLICY_DEFAULTS",
    "CalendarKind",
    "Confidence",
    "PolicyDefault",
    "ThreadKind",
    "default_policy",
]

CalendarKind = Literal["24/7", "business_hours", "business_days"]
Confidence = Literal["confirmed", "observed", "uncertain"]

GENERIC_PLATFORM = "email"


class ThreadKind(enum.StrEnum):
    """What a conversation is about, as far as response-time rules differ by it."""

    MESSAGE = "message"
    """An ordinary buyer message or chat; for Mercado Libre, a post-sale message."""
    QUESTION = "question"
    """A pre-sale public question on a listing (Mercado Libre)."""
    RETURN = "return"
    """A return request opened through the platform."""
    ITEM_NOT_RECEIVED = "item_not_received"
    """An item-not-received request opened through the platform."""
    ESCALATION = "escalation"
    """A complaint the platform itself escalated to the seller."""


@dataclass(frozen=True, slots=True)
class PolicyDefault:
    """One shipped default: targets, how they are counted and where the rule comes from.

    ``next_response`` is None when the platform measures only the first
    answer; ``resolution`` is None when no rule or guide gives one.
    ``warn_share`` is the share of the target after which the ticket shows
    a warning.  ``pause_when_pending`` is set only where the target is the
    store's own: platform clocks do not stop while the seller waits on the
    buyer.
    """

    platform: str
    thread_kind: ThreadKind
    name: str
    first_response: timedelta
    next_response: timedelta | None
    resolution: timedelta | None
    calendar: CalendarKind
    warn_share: float
    pause_when_pending: bool
    confidence: Confidence
    source_note: str
    holidays: str = "none"

    def calendar_for(self, store: BusinessCalendar) -> BusinessCalendar:
        """The calendar this policy counts on, for a store whose own calendar is ``store``.

        Store closures count only on ``business_hours``: a platform's clock
        does not stop because the seller is away.
        """
        if self.calendar == "business_hours":
            if self.holidays == "store":
                return store
            return BusinessCalendar(
                timezone=store.timezone,
                week=store.week,
                holiday_country=self._holiday_country(store),
                holiday_subdiv=store.holiday_subdiv if self.holidays == "store" else None,
                closures=store.closures,
                makeup_workdays=store.makeup_workdays,
            )
        country = self._holiday_country(store)
        subdiv = store.holiday_subdiv if self.holidays == "store" and country is not None else None
        if self.calendar == "24/7":
            return BusinessCalendar.always(store.timezone, holiday_country=country, holiday_subdiv=subdiv)
        return BusinessCalendar.weekly(
            store.timezone,
            {"mon-fri": "00:00-24:00"},
            holiday_country=country,
            holiday_subdiv=subdiv,
            makeup_workdays=store.makeup_workdays,
        )

    def _holiday_country(self, store: BusinessCalendar) -> str | None:
        if self.holidays == "none":
            return None
        if self.holidays == "store":
            return store.holiday_country
        return self.holidays


_H = timedelta(hours=1)

POLICY_DEFAULTS: tuple[PolicyDefault, ...] = (
    PolicyDefault(
        platform="amazon",
        thread_kind=ThreadKind.MESSAGE,
        name="Amazon buyer messages",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="Amazon Seller Central help requires answers within 24 hours, weekends and holidays included.",
    ),
    PolicyDefault(
        platform="walmart",
        thread_kind=ThreadKind.MESSAGE,
        name="Walmart customer inquiries",
        first_response=48 * _H,
        next_response=48 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.5,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="Walmart's Marketplace Customer Care Policy requires answers within 48 hours, weekends included.",
    ),
    PolicyDefault(
        platform="walmart",
        thread_kind=ThreadKind.ESCALATION,
        name="Walmart escalated complaints",
        first_response=1 * _H,
        next_response=1 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.5,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="Walmart's Customer Care Policy gives complaints escalated by Walmart a 1-hour deadline.",
    ),
    PolicyDefault(
        platform="tiktok",
        thread_kind=ThreadKind.MESSAGE,
        name="TikTok Shop buyer chats",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.5,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="TikTok Shop's seller performance rules expect 80 % of chats answered within 24 hours.",
    ),
    PolicyDefault(
        platform="etsy",
        thread_kind=ThreadKind.MESSAGE,
        name="Etsy first messages",
        first_response=24 * _H,
        next_response=None,
        resolution=None,
        calendar="24/7",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="Etsy's Star Seller programme counts first messages answered within 24 hours.",
    ),
    PolicyDefault(
        platform="ebay",
        thread_kind=ThreadKind.MESSAGE,
        name="eBay member messages",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="business_hours",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="eBay publishes no deadline for ordinary member messages, so this is the helpdesk's own target.",
        holidays="store",
    ),
    PolicyDefault(
        platform="ebay",
        thread_kind=ThreadKind.RETURN,
        name="eBay return requests",
        first_response=72 * _H,
        next_response=72 * _H,
        resolution=None,
        calendar="business_days",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="eBay's Money Back Guarantee lets the buyer call in eBay after 3 business days without reply.",
        holidays="store",
    ),
    PolicyDefault(
        platform="ebay",
        thread_kind=ThreadKind.ITEM_NOT_RECEIVED,
        name="eBay item-not-received requests",
        first_response=72 * _H,
        next_response=72 * _H,
        resolution=None,
        calendar="business_days",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="confirmed",
        source_note="eBay's Money Back Guarantee lets the buyer call in eBay after 3 business days without reply.",
        holidays="store",
    ),
    PolicyDefault(
        platform="shopee",
        thread_kind=ThreadKind.MESSAGE,
        name="Shopee buyer chats",
        first_response=12 * _H,
        next_response=12 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="Third-party seller guides say Shopee's Chat Response Rate counts chats answered within 12 hours.",
    ),
    PolicyDefault(
        platform="lazada",
        thread_kind=ThreadKind.MESSAGE,
        name="Lazada buyer chats",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="Lazada Seller Community guidance counts chats per daily cycle with weekends in and holidays out.",
        holidays="store",
    ),
    PolicyDefault(
        platform="aliexpress",
        thread_kind=ThreadKind.MESSAGE,
        name="AliExpress buyer messages",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="24/7",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="No official AliExpress rule was found and third-party guides cite 24 to 72 hours.",
    ),
    PolicyDefault(
        platform="mercadolibre",
        thread_kind=ThreadKind.QUESTION,
        name="Mercado Libre pre-sale questions",
        first_response=12 * _H,
        next_response=None,
        resolution=None,
        calendar="business_hours",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="Mercado Libre publishes no deadline but shows buyers how fast questions are answered.",
        holidays="store",
    ),
    PolicyDefault(
        platform="mercadolibre",
        thread_kind=ThreadKind.MESSAGE,
        name="Mercado Libre post-sale messages",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="business_hours",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="Mercado Libre publishes no deadline for post-sale messages, so this is the helpdesk's own target.",
        holidays="store",
    ),
    PolicyDefault(
        platform="allegro",
        thread_kind=ThreadKind.MESSAGE,
        name="Allegro messages",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="business_days",
        warn_share=0.75,
        pause_when_pending=False,
        confidence="uncertain",
        source_note="No official Allegro messaging deadline was found, so Polish business days are a cautious guess.",
        holidays="PL",
    ),
    PolicyDefault(
        platform="shopify",
        thread_kind=ThreadKind.MESSAGE,
        name="Shopify store e-mail",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="business_hours",
        warn_share=0.75,
        pause_when_pending=True,
        confidence="uncertain",
        source_note="Shopify imposes no response time on a merchant's own store, so this is the helpdesk's target.",
        holidays="store",
    ),
    PolicyDefault(
        platform=GENERIC_PLATFORM,
        thread_kind=ThreadKind.MESSAGE,
        name="E-mail",
        first_response=24 * _H,
        next_response=24 * _H,
        resolution=None,
        calendar="business_hours",
        warn_share=0.75,
        pause_when_pending=True,
        confidence="uncertain",
        source_note="Plain e-mail has no platform rule, so this is the helpdesk's own target for any unlisted channel.",
        holidays="store",
    ),
)

_BY_KEY: dict[tuple[str, str], PolicyDefault] = {(p.platform, p.thread_kind): p for p in POLICY_DEFAULTS}
_ALIASES = {"tiktokshop": "tiktok", "mercadolivre": "mercadolibre", "meli": "mercadolibre"}


def default_policy(platform: str | None, thread_kind: str | None = None) -> PolicyDefault:
    """The shipped default for a platform and thread kind.

    Falls back to the platform's ordinary-message default when it has no
    rule for that kind, and to the generic e-mail default for unknown or
    missing platforms.  Platform names are matched loosely (``TikTok Shop``,
    ``tiktok_shop`` and ``tiktok`` are the same).
    """
    key = "".join(ch for ch in (platform or "").lower() if ch.isalnum())
    key = _ALIASES.get(key, key)
    kind = (thread_kind or ThreadKind.MESSAGE).lower()
    return (
        _BY_KEY.get((key, kind))
        or _BY_KEY.get((key, ThreadKind.MESSAGE))
        or _BY_KEY[(GENERIC_PLATFORM, ThreadKind.MESSAGE)]
    )
