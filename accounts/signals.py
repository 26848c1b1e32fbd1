from django.dispatch import Signal

# Sent after commit when a user's СНИЛС or confirmed e-mail may now identify them as a doctor
# (receivers: credits, which credits module completions reported before the doctor signed up).
doctor_identified = Signal()
