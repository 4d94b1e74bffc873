"""Amazon through the Selling Partner API: orders and templated messages for a relay-mail marketplace.

Buyer messages themselves arrive as relay mail over the email channel; see
:mod:`channels.amazon.connector`.
"""
