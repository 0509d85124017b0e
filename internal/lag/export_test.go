package lag

import "time"

// AdminRequests exposes the request kinds initialised at 0 to the tests.
var AdminRequests = adminRequests

// SetClock replaces the clock collection cycles start by.
func SetClock(c *Collector, now func() time.Time) { c.now = now }
