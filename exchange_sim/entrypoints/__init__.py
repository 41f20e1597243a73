"""gRPC servicers of the exchange: thin translation between protos and the service layer."""
