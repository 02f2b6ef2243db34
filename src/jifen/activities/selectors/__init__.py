"""Reads of the activities app: ``eligibility`` (who may take part), ``lottery``,
``auction`` and ``centre`` (the lists the activity centre and console show)."""
