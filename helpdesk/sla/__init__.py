"""Service-level clocks: open-time arithmetic, per-ticket clock state, policies, sweep.

Modules: ``calendar`` (open-time arithmetic), ``clock`` (the pure state
machine), ``defaults`` (shipped per-platform targets), ``models``
(``sla_policy``, ``sla_clock``), ``policies`` (choosing a policy, building
its calendar, seeding), ``engine`` (loading and saving a set of tickets'
clocks), ``ingest_step`` (the pipeline step), ``services`` (inbox hooks,
sweep, escalation, policy edits), ``tasks`` (the minutely sweep),
``views`` / ``schemas`` (policy admin UI and validation).

What the inbox reads, kept in the same transaction as every change:

* ``Ticket.sla_due_at``: the earliest due instant of the ticket's running
  (or overdue and still unanswered) clocks; NULL when no clock runs,
  including while every live clock is paused.  Sort by it (index
  ``(status, sla_due_at)``) for "what to answer first".
* ``Ticket.sla_state``: ``"ok"``, ``"warning"`` (a clock passed its
  warning share of the target), ``"breached"`` (a clock is past due; stays
  until the breached clock is answered or cancelled) or NULL (nothing is
  measured).  "At risk" = ``warning``; "Breached" = ``breached``.  A
  countdown is ``sla_due_at - now``.

Inbox hooks: call :func:`helpdesk.sla.services.on_agent_reply` when an
agent sends a public reply (never for internal notes) and
:func:`helpdesk.sla.services.on_status_change` on every status change, in
the same transaction; both keep the two columns above in step on the ORM
object they are given.
"""
