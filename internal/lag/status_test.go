package lag

import "testing"

func win(pairs ...int64) []sample {
	var w []sample
	for i := 0; i+1 < len(pairs); i += 2 {
		w = append(w, sample{committed: pairs[i], lag: pairs[i+1]})
	}
	return w
}

func TestPartitionStatus(t *testing.T) {
	tests := []struct {
		name  string
		w     []sample
		owned bool
		want  Status
	}{
		{"one sample is not enough", win(10, 50), false, StatusOK},
		{"caught up now", win(10, 5, 15, 0), true, StatusOK},
		{"caught up earlier in the window", win(10, 0, 10, 5, 10, 9), false, StatusOK},
		{"progressing and catching up", win(10, 50, 20, 40, 30, 30), true, StatusOK},
		{"lag went down once", win(10, 50, 20, 60, 30, 55), true, StatusOK},
		{"progressing, lag flat", win(10, 50, 20, 50, 30, 50), true, StatusWarn},
		{"progressing, lag growing", win(10, 50, 20, 60, 30, 70), true, StatusWarn},
		{"no progress, owned", win(10, 50, 10, 60, 10, 70), true, StatusStall},
		{"no progress, owned, lag flat", win(10, 50, 10, 50, 10, 50), true, StatusStall},
		{"no progress, nobody owns it", win(10, 50, 10, 60, 10, 70), false, StatusStop},
		{"offset went back", win(30, 10, 10, 30, 20, 20), true, StatusRewind},
		{"rewind wins over caught up", win(30, 0, 10, 20), false, StatusRewind},
		{"no progress but caught up", win(10, 0, 10, 0, 10, 0), false, StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := partitionStatus(tt.w, tt.owned); got != tt.want {
				t.Fatalf("partitionStatus = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestGroupStatus(t *testing.T) {
	tests := []struct {
		name        string
		counts      statusCounts
		group, want Status
	}{
		{"all ok", statusCounts{StatusOK: 4}, StatusOK, StatusOK},
		{"one warn", statusCounts{StatusOK: 3, StatusWarn: 1}, StatusWarn, StatusWarn},
		{"stall beats warn", statusCounts{StatusWarn: 3, StatusStall: 1}, StatusErr, StatusStall},
		{"stop beats stall and rewind", statusCounts{StatusStop: 1, StatusStall: 1, StatusRewind: 2}, StatusErr, StatusStop},
		{"rewind", statusCounts{StatusOK: 1, StatusRewind: 1}, StatusErr, StatusRewind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, c := tt.counts.groupStatus()
			if g != tt.group || c != tt.want {
				t.Fatalf("groupStatus = %s/%s, want %s/%s", g, c, tt.group, tt.want)
			}
		})
	}
}

func TestOffsetLag(t *testing.T) {
	tests := []struct {
		name                  string
		committed, start, end int64
		want                  int64
	}{
		{"behind", 10, 0, 25, 15},
		{"caught up", 25, 0, 25, 0},
		{"ahead of end is never negative", 30, 0, 25, 0},
		{"below deleted segments", 2, 5, 9, 4},
		{"start unknown", 2, noSample, 9, 7},
		{"end unknown", 2, 0, noSample, 0},
		{"compacted gaps do not matter", 100, 40, 180, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := offsetLag(tt.committed, tt.start, tt.end); got != tt.want {
				t.Fatalf("offsetLag = %d, want %d", got, tt.want)
			}
		})
	}
}
