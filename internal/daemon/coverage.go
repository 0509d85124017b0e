package daemon

import (
	"fmt"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// samplingCoverage is the sampler group's coverage from the leader's last
// lag cycle: this replica's collector when it leads, else the document the
// leader shared; nil when none is known yet.
func (d *daemon) samplingCoverage() *lag.Coverage {
	if t := d.term.Load(); t != nil {
		if s := t.lag.Snapshot(); s != nil {
			return s.Coverage
		}
		return nil
	}
	_, doc, ok := d.leaderGroups()
	if !ok {
		return nil
	}
	return doc.Coverage
}

// coverage describes the sampler group's coverage for /readyz; "" when not
// measured yet.
func (d *daemon) coverage() string {
	c := d.samplingCoverage()
	if c == nil {
		return ""
	}
	owned := fmt.Sprintf("%d of %d partitions unaudited (%d assigned to no replica, %d with a stored position stuck)", c.Unaudited, c.Partitions, c.Unowned, c.Stalled)
	if !c.Known {
		owned = fmt.Sprintf("%d of %d partitions unaudited (stored position stuck; assignment unknown)", c.Unaudited, c.Partitions)
	}
	return fmt.Sprintf("coverage: %s, %d members; stored positions %d records behind the end", owned, c.Members, c.LagRecords)
}
