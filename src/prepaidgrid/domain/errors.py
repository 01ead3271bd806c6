"""The domain's exception tree: every rule a command can break has its own clear error.

DomainError                      -> CLI exit 2 / HTTP 4xx, one line for a human
 +-- InvalidInput                bad value at the edge (negative units, zero amount, bad time)
 |    +-- InvalidAmount
 |    +-- InvalidUsage
 |    +-- InvalidTimestamp
 +-- NotFound
 |    +-- UnknownTariff
 |    +-- UnknownCategory
 |    +-- UnknownAccount
 |    +-- UnknownPayment
 |    +-- UnknownProfile
 +-- Conflict
      +-- DuplicatePayment       a concurrent retry committed the same payment first
      +-- DuplicateJournal       the same idempotency key was posted before
      +-- AlreadyExists
      +-- InvalidTransition      e.g. reversing a payment that was never credited
"""


class DomainError(Exception):
    """A rule of the domain refused a command; the message is shown to the user as is."""


class InvalidInput(DomainError):
    pass


class InvalidAmount(InvalidInput):
    pass


class InvalidUsage(InvalidInput):
    pass


class InvalidTimestamp(InvalidInput):
    pass


class NotFound(DomainError):
    pass


class UnknownTariff(NotFound):
    pass


class UnknownCategory(NotFound):
    pass


class UnknownAccount(NotFound):
    pass


class UnknownPayment(NotFound):
    pass


class UnknownProfile(NotFound):
    pass


class Conflict(DomainError):
    pass


class DuplicatePayment(Conflict):
    pass


class AlreadyExists(Conflict):
    pass


class InvalidTransition(Conflict):
    pass


class DuplicateJournal(Conflict):
    """A journal with the same idempotency key is already in the ledger."""
