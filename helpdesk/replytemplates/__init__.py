"""Reply templates agents insert in the composer; leads and admins manage them."""
