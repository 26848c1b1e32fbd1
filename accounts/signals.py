from django.dispatch import Signal

# Sent after commit when a user's СНИЛС or confirmed e-mail may now identify them as a doctor
# (receivers: credits, which credits module completions reported before the doctor signed up).
doctor_identified = Signal()

# Sent inside the transaction that takes a СНИЛС away from an account (the doctor changed or removed it, or
# the Ministry confirmed it for another account), with `user`, `snils` and `actor`. Receivers undo what that
# number brought to the account (credits reverses module completions credited by it) in the same transaction.
snils_released = Signal()
