package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestImportCommand_StoredOverlap imports a subscription's history in two
// files: a second file whose segment overlaps a stored one (the stored
// segment still open, or ending after the new one starts) is refused as a
// whole and leaves the store as it was; a second file that closes the
// stored segment (same valid_from, so it replaces it) and opens the next
// one is accepted.
func TestImportCommand_StoredOverlap(t *testing.T) {
	db, config := importWorkdir(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	head := "subscription_id,valid_from,valid_to,customer_id,plan,status,billing_interval,interval_count,amount,currency\n"
	first := write("jan.csv", head+
		"s1,2024-01-01,,c1,pro,active,month,1,30,EUR\n"+
		"s2,2024-01-01,2024-03-01,c2,pro,active,month,1,30,EUR\n")
	if code, _, stderr := importCLI(t, "import", "--db", db, "--config", config, "subscriptions", first); code != 0 {
		t.Fatal(stderr)
	}
	before := importState(t, db)

	// s1's stored segment runs on: a new segment from February overlaps it.
	// s2's stored segment ends on 1 March: one from 15 February overlaps it.
	// s3 is new and fine, but nothing of the file may be stored.
	bad := write("feb.csv", head+
		"s1,2024-02-01,,c1,max,active,month,1,50,EUR\n"+
		"s2,2024-02-15,,c2,max,active,month,1,50,EUR\n"+
		"s3,2024-02-01,,c3,pro,active,month,1,30,EUR\n")
	code, stdout, stderr := importCLI(t, "import", "--db", db, "--config", config, "subscriptions", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"subscription s1: segment [2023-12-31T23:00:00Z, open) (stored) overlaps segment [2024-01-31T23:00:00Z, open) (this import)",
		"subscription s2: segment [2023-12-31T23:00:00Z, 2024-02-29T23:00:00Z) (stored) overlaps segment [2024-02-14T23:00:00Z, open) (this import)",
		"nothing was imported",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "s3") {
		t.Errorf("stderr names s3, which overlaps nothing:\n%s", stderr)
	}
	if after := importState(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
	}

	// Closing the stored segments (same key replaces them) makes the
	// history consistent: accepted.
	good := write("feb-fixed.csv", head+
		"s1,2024-01-01,2024-02-01,c1,pro,active,month,1,30,EUR\n"+
		"s1,2024-02-01,,c1,max,active,month,1,50,EUR\n"+
		"s2,2024-01-01,2024-02-15,c2,pro,active,month,1,30,EUR\n"+
		"s2,2024-02-15,,c2,max,active,month,1,50,EUR\n")
	if code, _, stderr := importCLI(t, "import", "--db", db, "--config", config, "subscriptions", good); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var n int
	importQuery(t, db, "SELECT count(*) FROM subscriptions", &n)
	if n != 4 {
		t.Errorf("%d segments stored, want 4", n)
	}
}
