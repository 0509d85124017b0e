package daemon

import (
	"fmt"
	"time"
)

// shareDetail is /readyz's line about the estate-wide view: where this
// replica's consumer groups come from and how old they are.
func (d *daemon) shareDetail() string {
	if t := d.term.Load(); t != nil {
		if c := t.shared.Load(); c > 0 {
			return fmt.Sprintf("shared state: this replica leads and has shared the groups of lag cycle %d", c)
		}
		return "shared state: this replica leads; groups not shared yet (first lag cycle)"
	}
	if !d.board.Synced() {
		return "shared state: still reading the shared state topic " + d.cfg.Share.Topic
	}
	e, doc, ok := d.leaderGroups()
	if !ok {
		return "shared state: no replica has shared consumer groups yet"
	}
	age := max(time.Since(e.PublishedAt), 0).Round(time.Second)
	s := fmt.Sprintf("shared state: groups of lag cycle %d from %s, %s old", doc.Cycle, e.Replica, age)
	if e.Stale {
		s += fmt.Sprintf(" (STALE: older than share.stale_after %s; the leader stopped publishing or this replica cannot read the topic)", d.cfg.Share.StaleAfter)
	}
	if e.Incomplete > 0 {
		s += fmt.Sprintf("; %d items missing (see eventwatch_share_view_missing_items)", e.Incomplete)
	}
	return s
}
