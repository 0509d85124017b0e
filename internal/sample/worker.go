package sample

import (
	"fmt"
	"runtime"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
)

// job is one entry of a worker's queue: a record waiting for audit (a
// private copy, so the fetch buffer it came from is not kept alive by the
// queue), an Advance of the ledger (advance set), or a barrier (done set).
type job struct {
	rec     event.Record
	size    int64
	st      *partState    // the assignment the record or range belongs to
	advance *[2]int64     // [from, to) delivered, for the ledger
	done    chan struct{} // closed by the worker: everything queued before it was handled
}

// newJob copies r's key, value and headers into one allocation. A nil
// value stays nil (a tombstone).
func newJob(r *kgo.Record, st *partState) *job {
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Value)
	}
	buf := make([]byte, 0, size)
	j := &job{size: int64(size), st: st, rec: event.Record{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp,
	}}
	buf, j.rec.Key = appendCopy(buf, r.Key)
	buf, j.rec.Value = appendCopy(buf, r.Value)
	if len(r.Headers) > 0 {
		j.rec.Headers = make([]event.Header, len(r.Headers))
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

// shard is the worker queue of a partition: all its records and Advances
// go through one queue, so they are handled in offset order.
func (s *Sampler) shard(topic string, partition int32) int {
	h := uint32(2166136261)
	for i := 0; i < len(topic); i++ {
		h = (h ^ uint32(topic[i])) * 16777619
	}
	h = (h ^ uint32(partition)) * 16777619
	return int(h % uint32(len(s.queues)))
}

// queuedRecords is the number of entries waiting in the worker queues.
func (s *Sampler) queuedRecords() int {
	n := 0
	for _, q := range s.queues {
		n += len(q)
	}
	return n
}

// enqueue hands r to its partition's audit worker. It returns false when
// the record is dropped: the queue stayed full (by count) past the poll's
// wait, or the queued bytes are over the bound (a lone record larger than
// the bound still goes through an empty queue). With a ledger nothing is
// dropped: a full queue makes the poll wait (back-pressure), since the
// ledger's position moves past every record it is told about.
func (s *Sampler) enqueue(r *kgo.Record, st *partState, w *queueWait) bool {
	j := newJob(r, st)
	q := s.queues[s.shard(r.Topic, r.Partition)]
	if s.ledger != nil {
		s.queuedBytes.Add(j.size)
		return s.send(q, j)
	}
	if n := s.queuedBytes.Add(j.size); n > j.size && n > s.cfg.MaxQueueBytes {
		s.queuedBytes.Add(-j.size)
		return false
	}
	select {
	case q <- j:
		return true
	default:
	}
	if !w.expired && w.max > 0 {
		select {
		case q <- j:
			return true
		case <-w.expiry():
			w.expired = true
		}
	}
	s.queuedBytes.Add(-j.size)
	return false
}

// send queues j, waiting for room until polling stops.
func (s *Sampler) send(q chan *job, j *job) bool {
	select {
	case q <- j:
		return true
	case <-s.stop:
		s.queuedBytes.Add(-j.size)
		return false
	}
}

// enqueueAdvance queues the range [from, to) of a partition behind its
// records; s.mu held.
func (s *Sampler) enqueueAdvance(st *partState, topic string, partition int32, from, to int64) {
	st.pos = to
	j := &job{st: st, advance: &[2]int64{from, to}, rec: event.Record{Topic: topic, Partition: partition}}
	s.send(s.queues[s.shard(topic, partition)], j)
}

// barrier waits (up to barrierTimeout) until the workers of the given
// shards (all when none given) handled everything queued before now.
func (s *Sampler) barrier(shards ...int) {
	if len(shards) == 0 {
		for i := range s.queues {
			shards = append(shards, i)
		}
	}
	timeout := time.NewTimer(barrierTimeout)
	defer timeout.Stop()
	for _, i := range shards {
		j := &job{done: make(chan struct{})}
		select {
		case s.queues[i] <- j:
		case <-s.workersDone:
			return
		case <-timeout.C:
			s.log.Warn("audit workers did not drain in time for a revoke or rewind", "timeout", barrierTimeout)
			return
		}
		select {
		case <-j.done:
		case <-s.workersDone:
			return
		case <-timeout.C:
			s.log.Warn("audit workers did not drain in time for a revoke or rewind", "timeout", barrierTimeout)
			return
		}
	}
}

// work handles one queue until polling stopped and the queue is empty, so
// every queued record is audited before shutdown.
func (s *Sampler) work(q chan *job) {
	for {
		select {
		case j := <-q:
			s.handle(j)
		case <-s.stop:
			for {
				select {
				case j := <-q:
					s.handle(j)
				default:
					return
				}
			}
		}
	}
}

func (s *Sampler) handle(j *job) {
	switch {
	case j.done != nil:
		close(j.done)
	case j.advance != nil:
		if j.st.live.Load() {
			s.ledger.Advance(j.rec.Topic, j.rec.Partition, j.advance[0], j.advance[1])
		}
	default:
		if j.st == nil || j.st.live.Load() {
			s.audit(j)
		}
		s.queuedBytes.Add(-j.size)
	}
}

// audit checks one record and hands the result to the sinks (the audit
// counters among them). A panicking auditor or sink costs that record,
// never the process.
func (s *Sampler) audit(j *job) {
	res, ok := s.check(j)
	if !ok {
		return
	}
	for _, sink := range s.sinks {
		s.observe(sink, j, &res)
	}
}

func (s *Sampler) check(j *job) (res event.Result, ok bool) {
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

func (s *Sampler) observe(sink event.Sink, j *job, res *event.Result) {
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
