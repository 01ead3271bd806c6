"""Money, energy and time units: integer paise, integer Wh, UTC instants, IST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from prepaidgrid.domain.errors import InvalidAmount, InvalidTimestamp

IST = ZoneInfo("Asia/Kolkata")
WH_PER_KWH = 1000
MILLIPAISE_PER_PAISA = 1000  # Wh x paise/kWh = millipaise


def round_half_up(numerator: int, denominator: int) -> int:
    """The one rounding rule of the platform: half away from zero, on exact integers.

    Every division that produces paise goes through here, once, at the end of a
    computation, so rounding never drifts and never differs between two code paths.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def millipaise_to_paise(millipaise: int) -> int:
    return round_half_up(millipaise, MILLIPAISE_PER_PAISA)


def require_paise(amount_paise: object, *, positive: bool = True) -> int:
    """Accept an amount only as an exact integer number of paise."""
    if isinstance(amount_paise, bool) or not isinstance(amount_paise, int):
        raise InvalidAmount(f"amount must be a whole number of paise, got {amount_paise!r}")
    if positive and amount_paise <= 0:
        raise InvalidAmount(f"amount must be greater than zero paise, got {amount_paise}")
    return amount_paise


def require_utc(at: datetime) -> datetime:
    """Instants are timezone-aware; naive datetimes are refused, aware ones normalised to UTC."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidTimestamp(f"timestamp {at.isoformat()} has no time zone")
    return at.astimezone(UTC)


def ist_day(at: datetime) -> date:
    """The utility's calendar day (Asia/Kolkata) of an instant."""
    return require_utc(at).astimezone(IST).date()


def ist_midnight(day: date) -> datetime:
    """The UTC instant at which an IST day begins."""
    return datetime.combine(day, time(0), tzinfo=IST).astimezone(UTC)


def days_in_month(month: date) -> int:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (following - first).days


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601; a time without an offset is read as Asia/Kolkata (the utility's zone)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidTimestamp(f"not an ISO 8601 timestamp: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=IST)
    return parsed.astimezone(UTC)


def group_indian(number: int) -> str:
    """12345678 -> '1,23,45,678' (lakh and crore grouping)."""
    sign, digits = ("-", str(-number)) if number < 0 else ("", str(number))
    if len(digits) <= 3:
        return sign + digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    if head:
        pairs.insert(0, head)
    return sign + ",".join([*pairs, tail])


def parse_rupees(text: str, *, signed: bool = False) -> int:
    """What a person types, in rupees, to paise: '500', '500.5', '1,23,456.78', '₹250';
    with `signed`, '-150.50' too (a debit). Anything else is refused, never guessed."""
    value = text.strip().replace(",", "").replace("₹", "")
    sign = -1 if signed and value.startswith("-") else 1
    if signed:
        value = value.removeprefix("-").removeprefix("+")
    rupees, _, paise = value.partition(".")
    is_digits = rupees.isascii() and rupees.isdigit()
    if not is_digits or (paise and not (paise.isascii() and paise.isdigit() and len(paise) <= 2)):
        example = "150 or -150.50 for a debit" if signed else "500 or 500.50"
        raise InvalidAmount(f"enter the amount in rupees, e.g. {example}")
    return sign * (int(rupees) * 100 + int(paise.ljust(2, "0") or 0))


def format_rupees(amount_paise: int) -> str:
    """12345678 paise -> '₹1,23,456.78'."""
    sign = "-" if amount_paise < 0 else ""
    rupees, paise = divmod(abs(amount_paise), 100)
    return f"{sign}₹{group_indian(rupees)}.{paise:02d}"


PAISE_PER_LAKH = 100 * 100_000
PAISE_PER_CRORE = 100 * 10_000_000


def format_rupees_lakh_crore(amount_paise: int) -> str:
    """For people reading a report: 9,94,00,000 paise -> '₹9.94 lakh', 1,66,00,00,000 ->
    '₹1.66 crore' (two decimals, half-up); under a lakh, exact: '₹99,999.50'."""
    sign = "-" if amount_paise < 0 else ""
    magnitude = abs(amount_paise)
    if magnitude < PAISE_PER_LAKH:
        return sign + format_rupees(magnitude)
    lakh_hundredths = round_half_up(magnitude * 100, PAISE_PER_LAKH)
    if lakh_hundredths < 100 * 100:  # under 100.00 lakh once rounded
        whole, hundredths = divmod(lakh_hundredths, 100)
        return f"{sign}₹{whole}.{hundredths:02d} lakh"
    whole, hundredths = divmod(round_half_up(magnitude * 100, PAISE_PER_CRORE), 100)
    return f"{sign}₹{group_indian(whole)}.{hundredths:02d} crore"
