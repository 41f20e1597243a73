"""Unit tests of the custodian: domain rules, use cases over fakes and SQLite, properties."""
