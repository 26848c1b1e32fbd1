from django.dispatch import Signal

# Sent after commit when a user's СНИЛС or confirmed e-mail may now identify them as a doctor
# (receivers: modules, which credits module completions reported before the doctor signed up).
doctor_identified = Signal()

# Sent inside the transaction that takes a СНИЛС away from an account (the doctor changed or removed it, or
# the Ministry confirmed it for another account), with `user`, `snils` and `actor`. Receivers undo what that
# number brought to the account in the same transaction: codes reverses the codes it activated, modules the
# completions credited by it.
snils_released = Signal()

# Sent when what a doctor's cabinet shows has changed (a ledger row, a Ministry record's or link's state), with
# `doctor_ids`. The parts below the learning plan send it rather than import the plan; the plan's receiver makes
# the doctors' cached plans stale once the transaction commits.
doctor_records_changed = Signal()


def records_changed(*doctor_ids: int) -> None:
    doctor_records_changed.send(sender=None, doctor_ids=doctor_ids)
