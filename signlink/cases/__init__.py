"""Repair: service cases, the service-centre directory, slots and bookings (PostgreSQL, via signlink.db)."""
