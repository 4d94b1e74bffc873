"""The benchmark's platforms in a process of their own: eBay, Amazon and Shopify fakes, seeded.

    python bench/fake_platforms.py MESSAGES ORDERS

Prints one JSON line — for each fake the account settings and secrets that
connect to it — then serves until its standard input closes.  A platform is
another machine in real life; running the fakes apart keeps their work off
the measured process (on two cores, they run beside it).  Quotas are raised:
the benchmark measures the helpdesk, not a platform's plan.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels.amazon.fake import AmazonFake
from channels.ebay.fake import FakeEbay
from channels.shopify.fake import ShopifyFake

UNLIMITED = (10_000.0, 10_000)


def main() -> None:
    messages, orders = int(sys.argv[1]), int(sys.argv[2])
    ebay = FakeEbay().start()
    amazon = AmazonFake(
        usage_plans=dict.fromkeys(("getOrders", "getOrder", "getOrderItems", "createRestrictedDataToken"), UNLIMITED)
    ).start()
    shopify = ShopifyFake().start()
    third = orders // 3
    ebay.seed(messages=messages, orders=orders - 2 * third)
    amazon.seed(orders=third)
    shopify.seed(orders=third)
    accounts = {}
    for name, kind, fake in (("ebay-uk", "ebay", ebay), ("amazon-eu", "amazon", amazon), ("shop", "shopify", shopify)):
        settings, secrets = fake.account_settings()
        accounts[name] = {"kind": kind, "settings": settings, "secrets": secrets}
    print(json.dumps(accounts), flush=True)
    sys.stdin.read()  # serve until the benchmark is done with us
    for fake in (ebay, amazon, shopify):
        fake.stop()


if __name__ == "__main__":
    main()
