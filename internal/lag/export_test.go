package lag

// AdminRequests exposes the request kinds initialised at 0 to the tests.
var AdminRequests = adminRequests
