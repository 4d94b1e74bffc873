"""Machine translation of buyer messages and agents' drafts, through a provider the admin chooses.

Layers, each usable without the ones above it:

* :mod:`~helpdesk.translation.base` — the provider interface
  (``translate(texts, source, target) -> list[Translated]``, ``detect(text)``,
  ``languages()``) and its typed errors: :class:`~.base.ProviderUnreachable`,
  :class:`~.base.AuthRefused`, :class:`~.base.RateLimited` (with
  ``retry_after_s``), :class:`~.base.QuotaExceeded`, :class:`~.base.BadRequest`,
  :class:`~.base.NotConfigured`.  No Flask, no database.
* ``providers/`` — one module per service (LibreTranslate, DeepL, any
  OpenAI-compatible chat endpoint); :mod:`~helpdesk.translation.registry`
  lists them.  :mod:`~helpdesk.translation.fake` holds a loopback fake of each.
* :mod:`~helpdesk.translation.protect` and
  :mod:`~helpdesk.translation.roundtrip` — order numbers, tracking numbers,
  SKUs, amounts, template placeholders and the store's glossary are masked
  before sending and restored after (``translate_protected``).
* :mod:`~helpdesk.translation.services` — the desk's side: configuration
  (key sealed with :func:`helpdesk.crypto.seal`), monthly character
  counters and cap, the per-store glossary, and the two calls the inbox uses:

  ``translate_message(session, message_id, target) -> MessageTranslation``
      The cached translation of a stored message into ``target`` (one row
      per message, target language and provider).  A missing row is created
      ``pending`` and a job is queued (``tasks.translate_message_task``); the
      job retries rate limits and outages with back-off and ends ``done`` or
      ``failed`` (``error_kind`` for :func:`~.services.explain`, ``error`` in
      the service's words) and publishes ``message.translated`` (ticket room
      over Socket.IO, webhooks).  It commits: call it at a request's boundary
      and show the row's ``status``/``text``/``source_language``/``missing``;
      the original message is never touched.

  ``translate_draft(session, text, source, target, store_id) -> Translated``
      Synchronous, for the composer: raises the typed errors above (their
      ``str()`` is a sentence for the agent), so the draft stays where it was.

  Both raise :class:`~.base.NotConfigured` when no provider is configured and
  :class:`~.base.QuotaExceeded` once the month's cap is reached.
"""
