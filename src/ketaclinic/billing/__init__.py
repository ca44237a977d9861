"""The back office (issue 14): packages and price lists, the append-only money ledger per patient account,
payments through a processor adapter, insurance policies and prior authorizations, and the billing pages."""
