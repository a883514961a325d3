from django.apps import AppConfig
from django.db.models.signals import m2m_changed


class JuriesConfig(AppConfig):
    name = "juries"
    verbose_name = "Jurys"

    def ready(self):
        from certif.models import register_signed_sessions_finder
        from juries.models import JurySession, refuse_blocks_change_of_signed_session, signed_sessions_between

        # A registration a signed jury rests on keeps its period and is not deleted (certif.models.Registration).
        register_signed_sessions_finder(signed_sessions_between)

        # The blocks a signed session examined are part of what it signed.
        m2m_changed.connect(
            refuse_blocks_change_of_signed_session,
            sender=JurySession.blocks.through,
            dispatch_uid="juries_signed_session_blocks",
        )
