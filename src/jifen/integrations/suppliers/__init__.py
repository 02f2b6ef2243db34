"""Supplier fulfilment: approved orders of supplier items are fulfilled by a signed call to
the supplier's API (docs/decisions/0029-supplier-fulfilment.md)."""
