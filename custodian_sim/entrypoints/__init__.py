"""gRPC servicers of the custodian: validate the request, run the use case, build the response."""
