"""What Amazon allows in a message to a buyer, relay-mail replies and Messaging API texts alike.

Amazon's communication guidelines (Seller Central help, "Buyer-Seller
Messaging" and "Communication guidelines") forbid sharing contact details
(e-mail addresses, phone numbers), links that are not needed to complete the
order, and HTML; attachments may be up to 10 MB in all.  Messages that break
them are blocked or counted against the seller, so the helpdesk checks a
reply before it leaves.

Links to Amazon's own sites stay allowed (a product or order page is how an
order is completed).  So do links to the big carriers' own tracking sites:
a tracking link is the usual example of a link needed to complete an order,
and the Messaging API's delivery-details schema allows "links related to
order delivery".  Only the carriers' own hosts are listed, never link
shorteners or tracking aggregators; a seller whose carrier is missing gets a
warning to read, not a silent pass.
"""

from __future__ import annotations

from channels.email.relay import AMAZON_SITES
from macros.policy import ReplyPolicy

ORDER_NUMBER = r"\d{3}-\d{7}-\d{7}"

#: carriers' own tracking hosts (subdomains included), by region of use
CARRIER_HOSTS: tuple[str, ...] = (
    # international
    "dhl.com", "ups.com", "fedex.com", "tnt.com", "gls-group.eu", "gls-group.com", "dpd.com",
    # Americas
    "usps.com", "canadapost-postescanada.ca", "canadapost.ca", "purolator.com", "correosdemexico.gob.mx",
    "correios.com.br",
    # Europe
    "dhl.de", "deutschepost.de", "dpd.de", "hermesworld.com", "myhermes.de", "royalmail.com", "evri.com",
    "dpd.co.uk", "parcelforce.com", "laposte.fr", "colissimo.fr", "chronopost.fr", "correos.es", "seur.com",
    "poste.it", "brt.it", "postnl.nl", "bpost.be", "postnord.se", "inpost.pl", "poczta-polska.pl", "anpost.com",
    "yurticikargo.com", "aramex.com",
    # Asia-Pacific
    "japanpost.jp", "kuronekoyamato.co.jp", "sagawa-exp.co.jp", "auspost.com.au", "startrack.com.au",
    "singpost.com", "indiapost.gov.in",
)  # fmt: skip

AMAZON_HOSTS: tuple[str, ...] = tuple(f"amazon.{tld}" for tld in AMAZON_SITES)

AMAZON_POLICY = ReplyPolicy(
    platform="amazon",
    forbid_links=True,
    allowed_link_hosts=AMAZON_HOSTS + CARRIER_HOSTS,
    forbid_email_addresses=True,
    forbid_phone_numbers=True,
    plain_text_only=True,
    max_attachment_bytes=10 * 1024 * 1024,
    order_number=ORDER_NUMBER,
    forbid_off_platform=True,
    forbid_marketing=True,
    source="Amazon Seller Central: Buyer-Seller Messaging and Communication guidelines",
)
