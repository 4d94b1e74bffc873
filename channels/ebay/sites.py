"""eBay marketplaces: the REST marketplace id, the Trading API site id and what a site says about its buyers.

REST calls name a marketplace (``X-EBAY-C-MARKETPLACE-ID: EBAY_GB``), the
Trading API a numeric site (``X-EBAY-API-SITEID: 3``); one table keeps the
two in step so a seller picks a marketplace once.  The language is the
site's default, a hint only: ``purchaseMarketplaceId`` on an order (where
the buyer shopped) is the better guess for one buyer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Site:
    marketplace_id: str
    site_id: int
    country: str
    language: str


# Site ids: developer.ebay.com SiteCodeType (205, 207, 211 and 212 only observed in public code).
# Belgium has two Trading sites (23 French, 123 Dutch); EBAY_BE maps to the Dutch one.
SITES: dict[str, Site] = {
    s.marketplace_id: s
    for s in (
        Site("EBAY_US", 0, "US", "en-US"),
        Site("EBAY_CA", 2, "CA", "en-CA"),
        Site("EBAY_GB", 3, "GB", "en-GB"),
        Site("EBAY_AU", 15, "AU", "en-AU"),
        Site("EBAY_AT", 16, "AT", "de-AT"),
        Site("EBAY_FR", 71, "FR", "fr-FR"),
        Site("EBAY_DE", 77, "DE", "de-DE"),
        Site("EBAY_MOTORS_US", 100, "US", "en-US"),
        Site("EBAY_IT", 101, "IT", "it-IT"),
        Site("EBAY_BE", 123, "BE", "nl-BE"),
        Site("EBAY_NL", 146, "NL", "nl-NL"),
        Site("EBAY_ES", 186, "ES", "es-ES"),
        Site("EBAY_CH", 193, "CH", "de-CH"),
        Site("EBAY_HK", 201, "HK", "zh-HK"),
        Site("EBAY_IE", 205, "IE", "en-IE"),
        Site("EBAY_MY", 207, "MY", "en-MY"),
        Site("EBAY_PH", 211, "PH", "en-PH"),
        Site("EBAY_PL", 212, "PL", "pl-PL"),
        Site("EBAY_SG", 216, "SG", "en-SG"),
    )
}

MARKETPLACES: tuple[str, ...] = tuple(SITES)
