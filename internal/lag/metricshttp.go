package lag

import (
	"bufio"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// contentType is the one format /metrics answers in: the Prometheus text
// format 0.0.4, which every Prometheus accepts whatever else it asks for.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// MetricsHandler serves /metrics: the text exposition of g, followed by the
// snapshot exposition of the collector source returns (nil when there is
// none, e.g. on a replica that does not lead). The snapshot part is encoded
// once per cycle: a gzip scrape writes the cached gzip bytes as a second
// gzip member after the registry's, a plain one the cached text (or, with
// granularity partition, text streamed from the immutable snapshot). No
// prometheus.Metric is built for the snapshot and a scrape never waits for
// a cycle. Families of g that the snapshot also writes are dropped, so no
// name, HELP or TYPE appears twice. The format is always text 0.0.4, also
// when OpenMetrics or protobuf is asked for (Prometheus always accepts it).
func MetricsHandler(g prometheus.Gatherer, source func() *Collector, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "metrics")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var expo *exposition
		if c := source(); c != nil {
			expo = c.expo.Load()
		}
		mfs, err := g.Gather()
		if err != nil {
			log.Error("gather metrics", "err", err) // continue with what was gathered
		}
		w.Header().Set("Content-Type", contentType)
		zipped := acceptsGzip(r.Header.Get("Accept-Encoding"))
		if zipped {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Add("Vary", "Accept-Encoding")
		if err := writeMetrics(w, mfs, expo, zipped); err != nil {
			log.Debug("write metrics", "err", err) // the scraper went away
		}
	})
}

// writeMetrics writes the registry families and then the snapshot part.
func writeMetrics(w http.ResponseWriter, mfs []*dto.MetricFamily, expo *exposition, zipped bool) error {
	if !zipped {
		if err := writeFamilies(w, mfs, expo != nil); err != nil {
			return err
		}
		if expo == nil {
			return nil
		}
		return expo.writePlain(w)
	}
	zw := gzip.NewWriter(w)
	if err := writeFamilies(zw, mfs, expo != nil); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	if expo == nil {
		return nil
	}
	_, err := w.Write(expo.gz) // a second gzip member: gzip readers concatenate members
	return err
}

// writeFamilies writes the registry's families as text, without those the
// snapshot writes when it does.
func writeFamilies(w interface{ Write([]byte) (int, error) }, mfs []*dto.MetricFamily, skipSnapshot bool) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	for _, mf := range mfs {
		if skipSnapshot && isSnapshotFamily(mf.GetName()) {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return bw.Flush()
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip (and
// does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
