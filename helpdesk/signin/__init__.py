"""signin feature package: throttled sign-in, password links, two-factor codes, sessions that can be revoked."""
