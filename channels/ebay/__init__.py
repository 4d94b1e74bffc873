"""eBay: member messages (Message API or Trading API), orders (Fulfillment API), returns and
item-not-received cases (Post-Order API), replies, and Trading platform notifications that trigger a poll.

Modules: ``settings`` (schema), ``sites`` (marketplaces), ``auth`` (OAuth refresh), ``client`` (wire
protocol and errors), ``trading`` (Trading XML), ``cursor`` and ``reading`` (paging the streams),
``mapping`` (payloads → records), ``sending`` (replies), ``signing`` and ``push`` (notifications),
``connector`` (the Connector), ``fake`` (a loopback eBay for tests, benchmarks and the demo).
"""
