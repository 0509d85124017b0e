// Package procstat reads the CPU time and memory of processes from Linux's
// getrusage and /proc, for benchmarks that report CPU-seconds and peak RSS
// (stable on a loaded machine, unlike wall time). Outside Linux every
// figure is 0.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SelfCPU is this process's user + system CPU time so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPU is process pid's user + system CPU time so far.
func CPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// ResetPeakRSS resets the peak-RSS mark (VmHWM) of process pid (0: self).
func ResetPeakRSS(pid int) {
	_ = os.WriteFile(procPath(pid, "clear_refs"), []byte("5"), 0)
}

// RSSMB is process pid's (0: self) resident set now, in MiB.
func RSSMB(pid int) float64 { return float64(statusKB(pid, "VmRSS")) / 1024 }

// PeakRSSMB is process pid's (0: self) peak RSS since start or the last
// reset, in MiB.
func PeakRSSMB(pid int) float64 { return float64(statusKB(pid, "VmHWM")) / 1024 }

func statusKB(pid int, field string) int64 {
	raw, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func procPath(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return fmt.Sprintf("/proc/%d/%s", pid, name)
}

// ContextSwitches is how many times the threads of process pid (0: self)
// now alive have left the CPU, voluntarily (to wait) or not: how often
// the process wakes up, which its CPU time hides when each wake-up is
// short.
func ContextSwitches(pid int) int64 {
	dir := "/proc/self/task"
	if pid != 0 {
		dir = fmt.Sprintf("/proc/%d/task", pid)
	}
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		raw, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue // exited since
		}
		for line := range strings.SplitSeq(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}
