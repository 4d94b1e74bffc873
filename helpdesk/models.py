"""Every model in one import, for migrations and the shell."""

from helpdesk.accounts.models import Role, Team, User, team_channel_accounts, team_members
from helpdesk.api.models import ApiToken
from helpdesk.audit.models import AuditEvent
from helpdesk.channelaccounts.models import (
    ChannelAccount,
    ChannelActivity,
    Health,
    IdempotentResponse,
    PushReceipt,
)
from helpdesk.customers.models import Customer, CustomerIdentity, MergeSuggestion
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.leases import Lease
from helpdesk.macros.models import MacroFavourite, MacroUsage, PolicyOverride, StoredMacro
from helpdesk.notifications.models import Mention, Notification, NotificationCount
from helpdesk.orders.models import Order, OrderLine
from helpdesk.outbox.models import OutboxConsumer, OutboxEvent
from helpdesk.signin.models import PasswordLink, RecoveryCode, SigninThrottle, TwoFactorRequirement, UserSession
from helpdesk.sla.models import SlaClock, SlaPolicy
from helpdesk.tickets.models import (
    Attachment,
    AttachmentBlob,
    DeliveryState,
    Message,
    Priority,
    Ticket,
    TicketStatus,
    TicketTag,
)
from helpdesk.translation.models import GlossaryTerm, MessageTranslation, TranslationProvider, TranslationUsage
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiToken",
    "Attachment",
    "AttachmentBlob",
    "AuditEvent",
    "ChannelAccount",
    "ChannelActivity",
    "Customer",
    "CustomerIdentity",
    "DeliveryState",
    "GlossaryTerm",
    "Health",
    "IdempotentResponse",
    "Lease",
    "MacroFavourite",
    "MacroUsage",
    "Mention",
    "MergeSuggestion",
    "Message",
    "MessageTranslation",
    "Notification",
    "NotificationCount",
    "Order",
    "OrderLine",
    "OutboxConsumer",
    "OutboxEvent",
    "PasswordLink",
    "PolicyOverride",
    "Priority",
    "PushReceipt",
    "QuarantinedInput",
    "RecoveryCode",
    "Role",
    "SigninThrottle",
    "SlaClock",
    "SlaPolicy",
    "StoredMacro",
    "Team",
    "Ticket",
    "TicketStatus",
    "TicketTag",
    "TranslationProvider",
    "TranslationUsage",
    "TwoFactorRequirement",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookSubscription",
    "team_channel_accounts",
    "team_members",
]
