"""The signature of Trading Platform Notifications (eBay KB 1201).

``NotificationSignature`` = base64(MD5(Timestamp + DevID + AppID + CertID)),
where Timestamp is the text of the ``<Timestamp>`` element of the
notification body, exactly as sent (eBay signs the GMT string).  MD5 is
eBay's choice, not ours; it proves the sender knows the keyset's Cert ID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def notification_signature(timestamp: str, dev_id: str, app_id: str, cert_id: str) -> str:
    digest = hashlib.md5((timestamp + dev_id + app_id + cert_id).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def signature_matches(signature: str, timestamp: str, dev_id: str, app_id: str, cert_id: str) -> bool:
    """Constant-time comparison of a received signature with the one the keyset gives."""
    expected = notification_signature(timestamp, dev_id, app_id, cert_id)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
