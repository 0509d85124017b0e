package metrics

// eventwatch's own health.
var (
	BuildInfo = define(Spec{Name: "eventwatch_build_info", Kind: Gauge, Area: "self",
		Help:   "Always 1; labels carry the eventwatch version and Go version.",
		Labels: []string{"version", "goversion"}})
	KafkaUp = define(Spec{Name: "eventwatch_kafka_up", Kind: Gauge, Area: "self",
		Help: "1 when the Kafka cluster answered the last readiness probe, else 0."})
	ConfigReloadSuccess = define(Spec{Name: "eventwatch_config_last_reload_successful", Kind: Gauge, Area: "self",
		Help: "1 when the last configuration load (start or SIGHUP) succeeded, else 0."})
	CollectorSuccess = define(Spec{Name: "eventwatch_collector_success", Kind: Gauge, Area: "self",
		Help:   "1 when the background collector's last cycle succeeded completely, else 0.",
		Labels: []string{"collector"}})
	CollectorDuration = define(Spec{Name: "eventwatch_collector_duration_seconds", Kind: Gauge, Area: "self",
		Help:   "Duration of the background collector's last cycle.",
		Labels: []string{"collector"}})
	CollectorLastSuccess = define(Spec{Name: "eventwatch_collector_last_success_timestamp_seconds", Kind: Gauge, Area: "self",
		Help:   "Unix time of the background collector's last successful cycle.",
		Labels: []string{"collector"}})
	AdminErrors = define(Spec{Name: "eventwatch_admin_errors_total", Kind: Counter, Area: "self",
		Help:   "Failed Kafka admin API requests, by request kind.",
		Labels: []string{"request"}})
)
