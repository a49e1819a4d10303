"""Opening hours: a pure calendar (calendar.py), parsing (parse.py), the store and a cached reader."""

from signlink.hours.calendar import ALWAYS_OPEN, Calendar, Force, Override, Slot, Status, status

__all__ = ["ALWAYS_OPEN", "Calendar", "Force", "Override", "Slot", "Status", "status"]
