"""A local AWS emulator seeded with a realistic RDS fleet, for `dbsnooze demo` and the tests."""
