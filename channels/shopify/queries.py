"""The GraphQL documents the connector sends, and what each costs under Shopify's query-cost rules.

Shopify meters the GraphQL Admin API by *calculated query cost*, not by
requests: a scalar costs 0, an object 1, a connection 2 plus ``first`` times
its node, and one query may ask for at most 1,000 points.  Line items and
fulfilments are nested lists, so an orders page is bounded by cost long
before it reaches the 250 nodes a connection allows: :data:`PAGE_MAX` is the
largest page whose requested cost stays within the limit.

Operation names carry a ``Helpdesk`` prefix so the store's API logs (and the
loopback fake) can tell our calls apart.
"""

from __future__ import annotations

import datetime as dt

MAX_QUERY_COST = 1000
LINE_ITEMS = 10  # lines per order; orders with more are read without the rest
FULFILLMENTS = 2
TRACKING = 1

ORDER_FIELDS = f"""
fragment HelpdeskOrderFields on Order {{
  id name email phone createdAt updatedAt cancelledAt customerLocale
  displayFinancialStatus displayFulfillmentStatus currencyCode
  totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
  customer {{ id firstName lastName locale updatedAt }}
  shippingAddress {{ name city zip countryCodeV2 }}
  lineItems(first: {LINE_ITEMS}) {{
    nodes {{ id sku title quantity originalUnitPriceSet {{ shopMoney {{ amount }} }} }}
  }}
  fulfillments(first: {FULFILLMENTS}) {{ createdAt trackingInfo(first: {TRACKING}) {{ company number }} }}
}}"""

ORDERS = (
    """
query HelpdeskOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...HelpdeskOrderFields }
  }
}"""
    + ORDER_FIELDS
)

CHECK = """
query HelpdeskCheck {
  shop { name myshopifyDomain currencyCode ianaTimezone }
  orders(first: 1) { nodes { id } }
  customers(first: 1) { nodes { id } }
}"""

SUBSCRIBE = """
mutation HelpdeskSubscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}"""

CHECK_COST = 7
MUTATION_COST = 10


def order_cost(lines: int = LINE_ITEMS, fulfillments: int = FULFILLMENTS, tracking: int = TRACKING) -> int:
    """Requested points for one order node of :data:`ORDER_FIELDS`.

    The order, its customer, shipping address and ``totalPriceSet.shopMoney``
    (5 objects); the line-item connection (2 + 3 objects a line); each
    fulfilment with its tracking entries.
    """
    return 5 + (2 + 3 * lines) + fulfillments * (1 + tracking)


def orders_cost(first: int, lines: int = LINE_ITEMS, fulfillments: int = FULFILLMENTS, tracking: int = TRACKING) -> int:
    """Requested points for an orders page of ``first`` nodes."""
    return 2 + first * order_cost(lines, fulfillments, tracking)


PAGE_MAX = min(250, (MAX_QUERY_COST - 2) // order_cost())


def search_value(value: str) -> str:
    """A value for Shopify's search syntax, quoted when it holds anything but a plain token."""
    if value and all(c.isalnum() or c in "#-_." for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def updated_since(when: dt.datetime) -> str:
    """The search filter for orders changed at or after ``when`` (whole seconds, UTC)."""
    return f"updated_at:>='{when.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
