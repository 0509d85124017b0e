package sample

import (
	"fmt"
	"runtime"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/audit"
)

// job is one record waiting for audit: a private copy, so the fetch buffer
// it came from is not kept alive by the queue.
type job struct {
	rec  audit.Record
	size int64
}

// newJob copies r's key, value and headers into one allocation. A nil
// value stays nil (a tombstone).
func newJob(r *kgo.Record) *job {
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Value)
	}
	buf := make([]byte, 0, size)
	j := &job{size: int64(size), rec: audit.Record{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp,
	}}
	buf, j.rec.Key = appendCopy(buf, r.Key)
	buf, j.rec.Value = appendCopy(buf, r.Value)
	if len(r.Headers) > 0 {
		j.rec.Headers = make([]audit.Header, len(r.Headers))
		for i, h := range r.Headers {
			j.rec.Headers[i].Key = h.Key
			buf, j.rec.Headers[i].Value = appendCopy(buf, h.Value)
		}
	}
	return j
}

// appendCopy appends src to buf and returns the copy's sub-slice; nil stays nil.
func appendCopy(buf, src []byte) ([]byte, []byte) {
	if src == nil {
		return buf, nil
	}
	start := len(buf)
	buf = append(buf, src...)
	return buf, buf[start:len(buf):len(buf)]
}

// queueWait is the time one poll may spend waiting for room in the audit
// queue. The first wait starts the clock; once it has run out, records that
// meet a full queue are dropped at once. Bursts of a poll are absorbed, and
// a hung auditor costs each poll at most the wait.
type queueWait struct {
	timer   *time.Timer
	max     time.Duration
	expired bool
}

// expiry returns the channel that fires when the poll's wait is spent.
func (w *queueWait) expiry() <-chan time.Time {
	if w.timer == nil {
		w.timer = time.NewTimer(w.max)
	}
	return w.timer.C
}

func (w *queueWait) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// enqueue hands r to the audit workers. It returns false when the record
// is dropped: the queue stayed full (by count) past the poll's wait, or the
// queued bytes are over the bound (a lone record larger than the bound
// still goes through an empty queue).
func (s *Sampler) enqueue(r *kgo.Record, w *queueWait) bool {
	j := newJob(r)
	if q := s.queuedBytes.Add(j.size); q > j.size && q > s.cfg.MaxQueueBytes {
		s.queuedBytes.Add(-j.size)
		return false
	}
	select {
	case s.queue <- j:
		return true
	default:
	}
	if !w.expired && w.max > 0 {
		select {
		case s.queue <- j:
			return true
		case <-w.expiry():
			w.expired = true
		}
	}
	s.queuedBytes.Add(-j.size)
	return false
}

// work audits queued records until Run closes the queue (after ctx is done
// and polling stopped), so every queued record is audited before shutdown.
func (s *Sampler) work() {
	for j := range s.queue {
		s.audit(j)
		s.queuedBytes.Add(-j.size)
	}
}

// audit checks one record, counts the result and hands it to the sinks. A
// panicking auditor or sink costs that record, never the process.
func (s *Sampler) audit(j *job) {
	res, ok := s.check(j)
	if !ok {
		return
	}
	s.m.record(&j.rec, &res)
	for _, sink := range s.sinks {
		s.observe(sink, j, &res)
	}
}

func (s *Sampler) check(j *job) (res audit.Result, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.m.dropped.WithLabelValues(DropAuditPanic).Inc()
			s.log.Error("auditor panicked", "topic", j.rec.Topic, "partition", j.rec.Partition,
				"offset", j.rec.Offset, "panic", panicText(r))
			ok = false
		}
	}()
	return s.auditor.Check(&j.rec), true
}

func (s *Sampler) observe(sink audit.Sink, j *job, res *audit.Result) {
	defer func() {
		if r := recover(); r != nil {
			s.m.errors.WithLabelValues("sink").Inc()
			s.log.Error("sink panicked", "sink", fmt.Sprintf("%T", sink), "topic", j.rec.Topic,
				"partition", j.rec.Partition, "offset", j.rec.Offset, "panic", panicText(r))
		}
	}()
	sink.Observe(&j.rec, res)
}

// panicText describes a recovered value without echoing record payloads:
// runtime errors by their message, anything else by its type only.
func panicText(r any) string {
	if re, ok := r.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("%T", r)
}
