"""What core announces to the apps above it, so that core imports none of them."""

from django.dispatch import Signal

# After `jifen restore` has loaded a backup and applied newer migrations (outside any
# transaction). Arguments: result (jifen.core.backup.RestoreResult: a receiver records
# what it did on it — sign_ins_ended, active_api_keys, breaches), keep_sign_ins (bool),
# progress (callable taking a line of text for the operator).
database_restored = Signal()
