package sample

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// Fetches failing for a while (kfake ControlKey) are counted and shown in
// Status; once they succeed again, everything produced during the outage
// is observed, exactly once.
func TestSamplerFetchOutageResumesWithoutGap(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "out"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	h.waitAssigned(1)
	pr := manualProducer(t, c)
	topic := map[string]string{"topic": "out"}
	produce(t, pr, rec("out", 0, `{"event_id":"1"}`), rec("out", 0, `{"event_id":"2"}`))
	h.waitValue("eventwatch_records_observed_total", topic, 2)

	var down atomic.Bool
	down.Store(true)
	var failed atomic.Int64
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		failed.Add(1)
		resp := req.(*kmsg.FetchRequest).ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = 0
		for _, rt := range req.(*kmsg.FetchRequest).Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.UnknownServerError.Code // not retriable: surfaces in the poll
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	for range 5 {
		produce(t, pr, rec("out", 0, `{"event_id":"during"}`))
	}
	wait.For(t, "poll error in status", func() bool { return h.s.Status().LastError != "" })
	if got := h.value("eventwatch_sampler_errors_total", map[string]string{"op": "poll"}); got < 1 {
		t.Errorf("poll errors = %v, want >= 1", got)
	}
	down.Store(false)
	produce(t, pr, rec("out", 0, `{"event_id":"after"}`))
	h.waitValue("eventwatch_records_observed_total", topic, 8)
	h.waitValue("eventwatch_records_checked_total", topic, 8)
	if failed.Load() == 0 {
		t.Fatal(errors.New("the control function never failed a fetch"))
	}
}

// A wrong SASL password is an error in Status naming the broker, with the
// sampler still running (retrying), not crashing or exiting. kfake closes
// the connection on a bad password, so the cause reads EOF here; a real
// broker answers SASL_AUTHENTICATION_FAILED first.
func TestSamplerWrongPasswordShowsInStatus(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "watcher", "right"), kfake.SeedTopics(1, "s"))
	bad := scram.Auth{User: "watcher", Pass: "wrong"}.AsSha256Mechanism()
	h := newHarnessOpts(t, c, testConfig(), &fakeAuditor{}, []kgo.Opt{kgo.SASL(bad)}).start()
	wait.For(t, "a connection error in status", func() bool {
		return strings.HasPrefix(h.s.Status().LastError, "connect to broker 127.0.0.1:")
	})
	if got := h.value("eventwatch_sampler_errors_total", map[string]string{"op": "connect"}); got < 1 {
		t.Errorf("connect errors = %v, want >= 1", got)
	}
	if st := h.s.Status(); st.AssignedPartitions != 0 || st.Generation != -1 {
		t.Errorf("status with a wrong password: %+v", st)
	}
	select {
	case err := <-h.done:
		t.Fatalf("Run returned on a wrong password: %v", err)
	default:
	}
}
