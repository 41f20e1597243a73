"""gRPC servicers of the bridge: parse and validate, call the service layer, build the reply."""
