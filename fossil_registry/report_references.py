"""A public report's reference, which its reporter quotes: derived from the receipt alone (no database, no Flask), so
that the public view (public_view.report_receipt) and the reports' domain (reports.py) share it without importing each
other."""
from __future__ import annotations

import hashlib
import re

__all__ = ["reference_of", "normalized_reference"]

# A report's reference, quoted by its reporter (on the phone, in a letter): 12 characters of Crockford's base32 (no I, L,
# O or U to misread) from a hash of its receipt. Not a counter, so it tells nobody how many reports there are; one-way,
# so it does not open the report's page as the receipt does (the receipt: 144 random bits).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_of(receipt: str) -> str:
    bits = int.from_bytes(hashlib.sha256(receipt.encode()).digest()[:8], "big") >> 4  # 60 bits
    chars = "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(12)))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalized_reference(text: str) -> str | None:
    """A reference as typed (any case, with or without dashes and spaces, I/L for 1, O for 0), or None if it cannot
    be one."""
    plain = re.sub(r"[\s-]", "", str(text)).upper().translate(str.maketrans("ILO", "110"))
    if len(plain) != 12 or any(c not in _CROCKFORD for c in plain):
        return None
    return f"{plain[:4]}-{plain[4:8]}-{plain[8:]}"
