package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// drainGrace is how long, beyond http.shutdown_timeout, the sampler and the
// sinks get to drain and flush after ctx is done.
const drainGrace = 15 * time.Second

// run starts every long-running part in one errgroup and waits for them.
// The sinks (stitcher, ledger) outlive the sampler so the audits it
// drains on the way out still reach the store.
func (d *daemon) run(ctx context.Context) error {
	defer d.closeStore()
	ln, err := d.listen()
	if err != nil {
		return err
	}
	srv := d.httpServer()
	g, gctx := errgroup.WithContext(ctx)
	sinkCtx, stopSinks := context.WithCancel(context.WithoutCancel(gctx))
	defer stopSinks()
	g.Go(func() error { return d.serve(gctx, srv, ln) })
	g.Go(func() error { return d.ready.run(gctx) })
	g.Go(func() error {
		defer stopSinks()
		return wrap("sample", d.sampler.Run(gctx))
	})
	boardCtx, stopBoard := context.WithCancel(context.WithoutCancel(gctx))
	defer stopBoard()
	g.Go(func() error {
		defer stopBoard() // the stitcher publishes its flows on the way out
		return wrap("trace", d.stitcher.Run(sinkCtx))
	})
	g.Go(func() error {
		defer context.AfterFunc(sinkCtx, d.reports.Close)() // streams end so the HTTP server can stop
		return wrap("ledger", d.ledger.Run(sinkCtx))
	})
	g.Go(func() error { return wrap("leader", d.elector.Run(gctx, d.leadWork)) })
	g.Go(func() error { return wrap("share", d.board.Run(boardCtx)) })
	g.Go(func() error { return wrap("websocket", d.ws.Run(gctx)) })
	g.Go(func() error { return d.reloadLoop(gctx) })
	if d.triage != nil {
		g.Go(func() error { return wrap("dlq triage", d.triage.Run(gctx)) })
	}
	if d.replayer != nil {
		g.Go(func() error { return wrap("dlq replay", d.replayer.Run(gctx)) })
	}
	d.log.Info("eventwatch started", "version", d.opts.Version, "profile", d.cfg.Audit.Profile, "policy", d.cfg.Audit.Policy)
	return d.wait(ctx, g)
}

// wait returns the group's result, or an error when the parts do not stop
// within the shutdown deadline after ctx is done.
func (d *daemon) wait(ctx context.Context, g *errgroup.Group) error {
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	d.log.Info("shutting down")
	deadline := d.cfg.HTTP.ShutdownTimeout + drainGrace
	t := time.NewTimer(deadline)
	defer t.Stop()
	select {
	case err := <-done:
		d.log.Info("stopped")
		return err
	case <-t.C:
		return fmt.Errorf("shut down: components still running after %s", deadline)
	}
}

// httpServer is the server with every timeout set: a slow or silent
// client cannot hold a connection. WriteTimeout bounds every response; the
// SSE stream (/api/v1/violations/stream) lifts it for its own connection
// with http.ResponseController.SetWriteDeadline.
func (d *daemon) httpServer() *http.Server {
	h := d.cfg.HTTP
	return &http.Server{Handler: d.handler(), ReadHeaderTimeout: h.ReadHeaderTimeout, ReadTimeout: h.ReadTimeout,
		WriteTimeout: h.WriteTimeout, IdleTimeout: h.IdleTimeout}
}

func (d *daemon) closeStore() {
	if err := d.store.Close(); err != nil {
		d.log.Error("close report store", "err", err)
	}
}

func wrap(component string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", component, err)
}
