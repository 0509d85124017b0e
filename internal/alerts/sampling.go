package alerts

import (
	"fmt"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// samplingRules watch eventwatch's own coverage of the sampled topics: the
// lag collector's view of the sampler group (from the admin API, so a dead
// replica shows), and the sampler's back-pressure.
func samplingRules(o Options) []Rule {
	return []Rule{
		{Alert: "EventwatchSamplingStalled",
			Expr:   fmt.Sprintf("sum by (%s) (%s) > 0", o.By(), o.Sel(metrics.SamplingUnaudited.Name)),
			For:    "3m",
			Labels: self("warning"),
			Annotations: Annotations{Summary: "Partitions of sampled topics are not audited by any eventwatch replica",
				Description: "{{ $value | printf \"%.0f\" }} partitions of sampled topics have had no member of eventwatch's sampler group " +
					"assigned for 3m: a replica is gone and its session has not expired (static membership), or no replica runs. " +
					"Nothing is lost (they are read from the stored position later) but the report and metrics fall behind."}},
		{Alert: "EventwatchSamplingPaused",
			Expr:   fmt.Sprintf("max by (%s) (%s) == 1", o.By(), o.Sel(metrics.SamplerPaused.Name)),
			For:    "5m",
			Labels: self("warning"),
			Annotations: Annotations{Summary: "eventwatch has paused sampling: its report buffer is full",
				Description: "A replica has paused fetching for 5m because its report buffer (store.buffer_limit) is full: the " +
					"report store is unavailable or too slow. Nothing is dropped; eventwatch falls behind until the store accepts writes."}},
	}
}
