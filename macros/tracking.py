"""Carriers' own tracking pages, for ``order.tracking_url`` in macros.

Only the carriers' own hosts: Amazon's rules allow links needed to complete
the order (a carrier's tracking page is one), and the platform policies let
these hosts through.  An unknown carrier gives no URL, and a macro guards
for that (``{% if order.tracking_url %}``).
"""

from __future__ import annotations

from urllib.parse import quote

_CARRIERS = {
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{n}",
    "gls": "https://gls-group.com/track/{n}",
    "hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{n}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{n}",
    "la poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={n}",
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={n}",
    "correos": "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking-number={n}",
    "japan post": "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={n}",
    "yamato": "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number01={n}",
    "inpost": "https://inpost.pl/sledzenie-przesylek?number={n}",
    "canada post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{n}",
    "australia post": "https://auspost.com.au/mypost/track/details/{n}",
}


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's tracking page for ``number``, or None for a carrier we do not know."""
    if not carrier or not number:
        return None
    name = carrier.strip().lower()
    template = _CARRIERS.get(name) or next((t for c, t in _CARRIERS.items() if name.startswith(c)), None)
    return template.format(n=quote(number.strip(), safe="")) if template else None
