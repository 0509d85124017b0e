package websocket

import (
	"context"
	"errors"
	"net/http"

	"github.com/coder/websocket"
)

// attempt connects with token (none when empty), which the endpoint must
// refuse, and tells how it answered: an HTTP status instead of the upgrade,
// a close within auth_wait (1008 being the standard's way), or acceptance —
// the connection stayed open for auth_wait or delivered a data message.
func (d *dialer) attempt(ctx context.Context, token string) Attempt {
	conn, s, err := d.dial(ctx, token, nil)
	if err != nil {
		if s != 0 && s != http.StatusSwitchingProtocols {
			return Attempt{Outcome: OutcomeRefused, HTTPStatus: s, Proper: s == http.StatusUnauthorized || s == http.StatusForbidden}
		}
		return Attempt{Outcome: OutcomeError, Reason: err.Error()}
	}
	defer func() { _ = conn.CloseNow() }()
	wctx, cancel := context.WithTimeout(ctx, d.mod.AuthWait)
	defer cancel()
	_, _, err = conn.Read(wctx)
	switch {
	case err == nil:
		return Attempt{Outcome: OutcomeAccepted, Reason: "delivered a data message"}
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return Attempt{Outcome: OutcomeAccepted, Reason: "still open after auth_wait " + d.mod.AuthWait.String()}
	case ctx.Err() != nil:
		return Attempt{Outcome: OutcomeError, Reason: "probe cancelled"}
	}
	code := closeCode(err)
	return Attempt{Outcome: OutcomeRefused, CloseCode: code, Reason: d.red.clean(closeReason(err)),
		Proper: code == int(websocket.StatusPolicyViolation)}
}

// closeCode is the close code in err, or 1006 (abnormal closure) when the
// connection ended without a close frame.
func closeCode(err error) int {
	if c := websocket.CloseStatus(err); c != -1 {
		return int(c)
	}
	return int(websocket.StatusAbnormalClosure)
}

func closeReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return err.Error()
}
