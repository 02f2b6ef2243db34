"""Outbound webhooks: a transactional outbox signed per the Standard Webhooks spec
(docs/decisions/0028-webhook-outbox-and-ordering.md)."""
