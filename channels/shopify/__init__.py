"""Shopify: a store's orders and customers over the GraphQL Admin API, and its webhooks.

Shopify has no buyer-message API.  Contact-form and order mail reach the
store's mailbox and come in through the e-mail channel; this package supplies
the orders and customers that mail links to (by the order name a buyer
writes, ``#1042``, and by the buyer's e-mail address).
"""
