"""Webhook signatures: the reference test vector, and what must not verify."""

from __future__ import annotations

import pytest

from channels.shopify.signing import sign, verify

VECTOR_SECRET = "shpss_test_secret_123"
VECTOR_BODY = b'{"id":820982911946154500,"name":"#1042"}'
VECTOR_SIGNATURE = "S6d3sK2RnXxRDSgBE/GNjVdOtr7eZ4eu6cWHaXr5mRE="


def test_the_reference_vector_signs_and_verifies():
    assert sign(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    assert verify(VECTOR_BODY, VECTOR_SIGNATURE, [VECTOR_SECRET])


def test_any_of_several_secrets_verifies_during_a_rotation():
    assert verify(VECTOR_BODY, VECTOR_SIGNATURE, ["shpss_new_secret", VECTOR_SECRET])


@pytest.mark.parametrize(
    ("body", "signature", "secrets"),
    [
        (VECTOR_BODY.replace(b"1042", b"1043"), VECTOR_SIGNATURE, [VECTOR_SECRET]),  # body changed
        (VECTOR_BODY + b"\n", VECTOR_SIGNATURE, [VECTOR_SECRET]),  # re-serialised: one byte more
        (VECTOR_BODY, VECTOR_SIGNATURE, ["shpss_other"]),  # another app's secret
        (VECTOR_BODY, VECTOR_SIGNATURE, []),  # no secret to check with
        (VECTOR_BODY, VECTOR_SIGNATURE, [""]),  # an empty secret never verifies
        (VECTOR_BODY, None, [VECTOR_SECRET]),  # no header
        (VECTOR_BODY, "not base64 at all ✓", [VECTOR_SECRET]),
    ],
)
def test_what_does_not_verify(body, signature, secrets):
    assert not verify(body, signature, secrets)
