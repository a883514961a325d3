"""What the jury side announces to the rooms that stand on it (they connect in their AppConfig.ready).

Sent inside the service's transaction, so that what a receiver writes is committed or undone with it.
"""

from django.dispatch import Signal

# decision_rectify, once the rectification and the corrected decision are written: kwargs `rectification`, `actor`.
# The documents of that candidate in that session no longer say what the jury decided (documents marks them).
decision_rectified = Signal()
