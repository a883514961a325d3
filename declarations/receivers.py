"""The declarations' answers to what happens below them: a rectified or withdrawn certificate that was declared is
flagged « à corriger », and the next flux carries its corrected data."""

from declarations.services_receipts import corrections_flag_rectified, corrections_flag_withdrawn


def flag_rectified_declarations(sender, *, rectification, actor, **kwargs) -> int:
    return len(corrections_flag_rectified(rectification=rectification, actor=actor))


def flag_withdrawn_declarations(sender, *, withdrawal, award, actor, **kwargs) -> list[str]:
    corrections_flag_withdrawn(withdrawal=withdrawal, award=award, actor=actor)
    # The withdrawal lists what each receiver revoked; a correction is traced apart (cdc.correction_flagged).
    return []
