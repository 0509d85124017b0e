package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The versioned invoice estate: billing.invoice carries
// billing.invoice.issued in version 1.0 (partition 0, from a legacy
// service that stops after legacyFor) and 2.0 (partitions 1 and 2);
// invoice-archiver and payment-relay read both versions, invoice-mailer
// filters 1.0 out (it commits only what it processes). payment-relay
// turns each invoice into a billing.payment.requested — once per
// delivery, so a producer duplicate of an invoice (every tenth 2.0 one)
// gives two payment requests: not idempotent. ledger-writer reads the
// same invoices and deduplicates by event id.
const (
	TopicInvoice = "billing.invoice"
	TopicPayment = "billing.payment"

	GroupArchiver = "invoice-archiver"
	GroupMailer   = "invoice-mailer"
	GroupRelay    = "payment-relay"
	GroupLedger   = "ledger-writer"

	TypeInvoiceIssued    = "billing.invoice.issued"
	TypePaymentRequested = "billing.payment.requested"
	TypeLedgerPosted     = "billing.ledger.posted"

	// legacyFor is how long the legacy service produces version 1.0;
	// with the demo's readers.retirement_window (1m) the verdict on 1.0
	// flips to "can be retired" about legacyFor + 1m after start.
	legacyFor = 30 * time.Second
)

// invoices produces the versioned invoice traffic.
func (s *sim) invoices(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(20*time.Millisecond))
	if err != nil {
		return fmt.Errorf("create invoice producer: %w", err)
	}
	defer cl.Close()
	g := newIDs(s.seed, 20)
	start := time.Now()
	n := 0
	return every(ctx, 500*time.Millisecond, func() {
		n++
		inv := "inv-" + g.hexID(4)
		data := map[string]any{"invoice_id": inv, "amount_cents": 100 + g.rng.IntN(10000), "currency": "EUR"}
		if time.Since(start) < legacyFor {
			ev := awNew(g, TypeInvoiceIssued, "billing-legacy", data)
			s.produceTo(ctx, cl, &kgo.Record{Topic: TopicInvoice, Partition: 0, Key: []byte(inv), Value: mustJSON(ev)})
		}
		ev := awNew(g, TypeInvoiceIssued, "billing-service", data)
		ev.Meta.Version = "2.0"
		r := &kgo.Record{Topic: TopicInvoice, Partition: int32(1 + n%2), Key: []byte(inv), Value: mustJSON(ev)}
		s.produceTo(ctx, cl, r)
		if n%10 == 0 { // a producer retry: the same event again
			dup := *r
			s.produceTo(ctx, cl, &dup)
		}
	})
}

func (s *sim) produceTo(ctx context.Context, cl *kgo.Client, r *kgo.Record) {
	cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err != nil && ctx.Err() == nil {
			s.log.Debug("demo produce failed", "topic", r.Topic, "err", err)
		}
	})
}

// invoiceReader is a group on the invoice topic that processes the
// records accept takes (and commits only those) and reacts with emit.
type invoiceReader struct {
	group  string
	accept func(ev *awEvent) bool
	emit   func(ctx context.Context, ev *awEvent)
}

func (s *sim) readInvoices(ctx context.Context, ir invoiceReader) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...), kgo.ConsumerGroup(ir.group), kgo.ConsumeTopics(TopicInvoice),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitMarks(), kgo.AutoCommitInterval(time.Second))
	if err != nil {
		return fmt.Errorf("create %s consumer: %w", ir.group, err)
	}
	defer cl.Close()
	for ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var ev awEvent
			if json.Unmarshal(r.Value, &ev) != nil || (ir.accept != nil && !ir.accept(&ev)) {
				return
			}
			if ir.emit != nil {
				ir.emit(ctx, &ev)
			}
			cl.MarkCommitRecords(r)
		})
	}
	return nil
}

// follow is the event a relay emits for in: same correlation id and trace.
func follow(g *ids, in *awEvent, typ, source string, data any) awEvent {
	out := awNew(g, typ, source, data)
	out.Meta.Version = "1.0"
	out.Meta.CorrelationID = in.Meta.CorrelationID
	out.Meta.TraceContext.TraceID = in.Meta.TraceContext.TraceID
	return out
}

// startInvoices launches the invoice estate in the errgroup's way.
func (s *sim) startInvoices(ctx context.Context, gofn func(func() error)) {
	gofn(func() error { return s.invoices(ctx) })
	gofn(func() error { return s.readInvoices(ctx, invoiceReader{group: GroupArchiver}) })
	gofn(func() error {
		return s.readInvoices(ctx, invoiceReader{group: GroupMailer, accept: func(ev *awEvent) bool { return ev.Meta.Version == "2.0" }})
	})
	relay := newIDs(s.seed, 21)
	gofn(func() error {
		return s.readInvoices(ctx, invoiceReader{group: GroupRelay, emit: func(ctx context.Context, in *awEvent) {
			if in.Meta.Version != "2.0" {
				return
			}
			out := follow(relay, in, TypePaymentRequested, GroupRelay, map[string]any{"invoice_id": in.Data.(map[string]any)["invoice_id"]})
			s.produce(ctx, &kgo.Record{Topic: TopicPayment, Key: []byte(out.Meta.ID), Value: mustJSON(out)})
		}})
	})
	ledger, seen := newIDs(s.seed, 22), map[string]bool{}
	gofn(func() error {
		return s.readInvoices(ctx, invoiceReader{group: GroupLedger, emit: func(ctx context.Context, in *awEvent) {
			if in.Meta.Version != "2.0" || seen[in.Meta.ID] {
				return // deduplicated by event id: idempotent
			}
			seen[in.Meta.ID] = true
			out := follow(ledger, in, TypeLedgerPosted, GroupLedger, map[string]any{"invoice_id": in.Data.(map[string]any)["invoice_id"]})
			s.produce(ctx, &kgo.Record{Topic: TopicPayment, Key: []byte(out.Meta.ID), Value: mustJSON(out)})
		}})
	})
}
