"""What the candidates side announces to the rooms that stand on it (they connect in their AppConfig.ready).

Sent inside the service's transaction, so that what a receiver writes is committed or undone with it.
"""

from django.dispatch import Signal

# withdrawal_record, once the act and its withdrawn blocks are written: kwargs `withdrawal`, `candidate`, `award`
# (or None), `blocks` (the acquired blocks withdrawn), `revocation_reason`, `actor`. Each receiver returns the list
# of what it revoked, described for the act's audit trace (« Certificat MPES-… »): documents revokes the documents
# that state a withdrawn result.
results_withdrawn = Signal()
