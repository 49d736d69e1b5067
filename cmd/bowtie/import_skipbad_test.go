package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestImportCommand_SkipBadTargets checks that --skip-bad never truncates,
// replaces or removes a file the command did not write: the store, its
// write-ahead log, the input, the configuration, any other existing file,
// directories, and links to any of them are refused with the store and the
// target unchanged.
func TestImportCommand_SkipBadTargets(t *testing.T) {
	db, config := importWorkdir(t)
	good := filepath.Join(importFixtures, "google-ads.csv")
	if code, _, stderr := importCLI(t, "import", "--preset", "google-ads", good, "--db", db, "--config", config); code != 0 {
		t.Fatalf("setup import: exit %d\n%s", code, stderr)
	}
	dir := filepath.Dir(db)
	input := filepath.Join(dir, "mixed.csv")
	copyFile(t, filepath.Join(importFixtures, "bad", "mixed.csv"), input)
	wal := db + ".wal"
	other := filepath.Join(dir, "notes.txt")
	writeFile(t, other, "my notes\n")
	link := filepath.Join(t.TempDir(), "store-link.csv")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	walLink := filepath.Join(t.TempDir(), "wal-link")
	if err := os.Symlink(dir, walLink); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, target, want string }{
		{"Store", db, "that is the store"},
		{"StoreRelative", filepath.Join(dir, ".", filepath.Base(db)), "that is the store"},
		{"StoreLink", link, "that is the store"},
		{"WAL", wal, "that is the store's write-ahead log"}, // protected whether or not it exists
		{"WALThroughDirLink", filepath.Join(walLink, filepath.Base(wal)), "that is the store's write-ahead log"},
		{"Input", input, "that is the input file"},
		{"Config", config, "that is the configuration"},
		{"OtherFile", other, "was not written by this command"},
		{"Directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := importState(t, db)
			files := snapshot(t, db, input, config, other)
			code, stdout, stderr := importCLI(t, "import", "spend", input, "--db", db, "--config", config, "--skip-bad", tt.target)
			if code == 0 {
				t.Fatalf("exit 0, stdout %q", stdout)
			}
			if !strings.Contains(stderr, "--skip-bad "+tt.target+": ") || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want the flag, the path and %q", stderr, tt.want)
			}
			if after := snapshot(t, db, input, config, other); !reflect.DeepEqual(files, after) {
				t.Errorf("a file changed")
			}
			if after := importState(t, db); !reflect.DeepEqual(before, after) {
				t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
			}
			if _, err := os.Stat(wal); err == nil {
				t.Errorf("%s was created", wal)
			}
			assertNoTemp(t, dir)
		})
	}
}

// TestImportCommand_SkipBadReplace checks that a rejects file of an earlier
// run is replaced only when the new import succeeds.
func TestImportCommand_SkipBadReplace(t *testing.T) {
	db, config := importWorkdir(t)
	dir := t.TempDir()
	rejects := filepath.Join(dir, "rejects.csv")
	old := "line,field,reason,date\n9,cost,old reject,2024-01-01\n"
	writeFile(t, rejects, old)

	// A file-level error fails the whole import: the old rejects stay.
	missing := filepath.Join(importFixtures, "bad", "missing-column.csv")
	code, _, stderr := importCLI(t, "import", "spend", missing, "--db", db, "--config", config, "--skip-bad", rejects)
	if code == 0 {
		t.Fatal("import of a file without a cost column succeeded")
	}
	if body := readFile(t, rejects); body != old {
		t.Errorf("failed import changed the rejects file to %q\n%s", body, stderr)
	}
	assertNoTemp(t, dir)

	// A successful import replaces them.
	mixed := filepath.Join(importFixtures, "bad", "mixed.csv")
	if code, _, stderr := importCLI(t, "import", "spend", mixed, "--db", db, "--config", config, "--skip-bad", rejects); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if body := readFile(t, rejects); !strings.HasPrefix(body, "line,field,reason,date,source") || strings.Contains(body, "old reject") {
		t.Errorf("rejects file not replaced:\n%s", body)
	}
	assertNoTemp(t, dir)
}

// snapshot reads the files at paths (missing ones as "<missing>").
func snapshot(t *testing.T, paths ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			m[p] = "<missing>"
			continue
		}
		m[p] = string(b)
	}
	return m
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	writeFile(t, to, readFile(t, from))
}
