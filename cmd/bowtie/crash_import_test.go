package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/duckdb"
)

// TestImport_KillNine kills `bowtie import` with SIGKILL at points spread
// over a whole import (reading, staging, committing) and checks after each
// kill that the store opens cleanly and holds all of the file or none of it,
// next to the rows it had before; then that the same import, run again,
// completes.
func TestImport_KillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it: skipped with -short")
	}
	bin := buildBowtie(t)
	dir := t.TempDir()
	const before, n = 500, 60_000
	small, big := filepath.Join(dir, "small.csv"), filepath.Join(dir, "big.csv")
	writeEventsCSV(t, small, "old", before)
	writeEventsCSV(t, big, "new", n)
	base := filepath.Join(dir, "base.duckdb")
	if out, err := exec.Command(bin, "import", "events", small, "--db", base).CombinedOutput(); err != nil {
		t.Fatalf("baseline import: %v\n%s", err, out)
	}

	// How long a whole import takes here, to spread the kills over it.
	calib := copyStore(t, base, filepath.Join(dir, "calib.duckdb"))
	start := time.Now()
	if out, err := exec.Command(bin, "import", "events", big, "--db", calib).CombinedOutput(); err != nil {
		t.Fatalf("calibration import: %v\n%s", err, out)
	}
	full := time.Since(start)
	if got := countEvents(t, calib); got != before+n {
		t.Fatalf("calibration: %d events, want %d", got, before+n)
	}

	// Kills bisect toward the moment the import commits: lo is the latest
	// kill that left nothing imported, hi the earliest one that came after
	// the whole file was stored (or after the process had exited).
	lo, hi := time.Duration(0), full+full/2
	var none, all, last string
	for i := 0; i < 8; i++ {
		at := lo + (hi-lo)/2
		if i == 0 {
			at = full / 20 // surely while reading
		}
		path := copyStore(t, base, filepath.Join(dir, fmt.Sprintf("kill%d.duckdb", i)))
		cmd := exec.Command(bin, "import", "events", big, "--db", path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(at)
		cmd.Process.Signal(syscall.SIGKILL)
		killed := cmd.Wait() != nil
		got := countEvents(t, path) // fails the test if the store does not open
		switch {
		case got == before && killed:
			lo, none = at, none+"x"
		case got == before+n:
			hi, all = at, all+"x"
		default:
			t.Errorf("killed at %v (exited by itself: %v): %d events, want %d (none of the file) or %d (all of it)",
				at, !killed, got, before, before+n)
		}
		t.Logf("kill at %v (a whole import: %v; killed: %v): %d events", at.Round(time.Millisecond), full.Round(time.Millisecond), killed, got)
		last = path
	}
	if none == "" {
		t.Error("no kill landed before the commit: the test did not test anything")
	}
	t.Logf("%d kills left none of the file, %d all of it; the commit lies between %v and %v",
		len(none), len(all), lo.Round(time.Millisecond), hi.Round(time.Millisecond))
	// An interrupted import can simply be run again.
	if out, err := exec.Command(bin, "import", "events", big, "--db", last).CombinedOutput(); err != nil {
		t.Errorf("import after the kills: %v\n%s", err, out)
	} else if got := countEvents(t, last); got != before+n {
		t.Errorf("import after the kills: %d events, want %d", got, before+n)
	}
}

// writeEventsCSV writes n track events with ids prefix-0 ... to path.
func writeEventsCSV(t *testing.T, path, prefix string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,ts,type,name,person_id,url")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "%s-%d,2024-03-%02dT10:%02d:00Z,track,Signup,p%d,https://x.example/?utm_source=google&utm_medium=cpc\n",
			prefix, i, 1+i%28, i%60, i%5000)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// copyStore copies a closed store (and its log, if any) to path; a log
// left at path by an earlier copy is removed when from has none.
func copyStore(t *testing.T, from, to string) string {
	t.Helper()
	for _, suffix := range []string{"", ".wal"} {
		b, err := os.ReadFile(from + suffix)
		if os.IsNotExist(err) && suffix != "" {
			if err := os.Remove(to + suffix); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

func countEvents(t *testing.T, path string) int {
	t.Helper()
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatalf("the store does not open: %v", err)
	}
	defer st.Close()
	var n int
	if err := st.DB().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
