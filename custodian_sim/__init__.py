"""custodian_sim: the custody bank of the OES sandbox, a segregated double-entry ledger behind gRPC."""
