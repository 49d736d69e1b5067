package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bowtie-analytics/bowtie"
)

// rejectsHeader starts every rejects file `bowtie import --skip-bad` writes;
// an existing file is replaced only when its first line starts with it.
const rejectsHeader = "line,field,reason"

// protectedFile is a file a command must never write over: the store, its
// write-ahead log, the input being imported, the configuration.
type protectedFile struct {
	Path string
	What string // "the store", "the input file", ...
}

// storeFiles names the store at db and its write-ahead log as protected.
func storeFiles(db string) []protectedFile {
	return []protectedFile{{db, "the store"}, {db + ".wal", "the store's write-ahead log"}}
}

// atomicFile is an output file written under a temporary name beside its
// target and renamed onto the target only by Commit, so a failed command
// leaves whatever was at the target untouched and removes only the
// temporary file it created itself.
type atomicFile struct {
	*os.File
	target string
	done   bool
}

// createOutput opens an atomicFile for target on behalf of flag. It refuses
// a target that is (or resolves to) one of the protected files, a
// directory or other non-regular file, and an existing file whose first
// line does not start with header (so only a file of the same kind, written
// by an earlier run, is ever replaced). An empty header refuses every
// existing file.
func createOutput(flag, target, header string, protected []protectedFile) (*atomicFile, error) {
	for _, p := range protected {
		if p.Path != "" && samePath(target, p.Path) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "%s %s: that is %s; name a new file", flag, target, p.What)
		}
	}
	fi, err := os.Stat(target)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s %s: not a regular file; name a new file", flag, target)
	case err == nil:
		if header == "" || !startsWith(target, header) {
			return nil, bowtie.Errorf(bowtie.EINVALID,
				"%s %s: the file exists and was not written by this command; name a new file or remove it first", flag, target)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s %s: %v", flag, target, errors.Unwrap(err))
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s %s: %v", flag, target, errors.Unwrap(err))
	}
	return &atomicFile{File: f, target: target}, nil
}

// Commit flushes the file to disk and renames it onto its target. On
// failure the temporary file is kept and named in the error.
func (f *atomicFile) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.target)
	}
	if err != nil {
		// Kept: the command may already have acted on what it wrote.
		return fmt.Errorf("write %s: %w (what was written is in %s)", f.target, err, f.Name())
	}
	return nil
}

// Abort closes and removes the temporary file; the target is untouched.
// It does nothing after Commit.
func (f *atomicFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// samePath reports whether a and b name the same file: the same file on
// disk when both exist (hard and symbolic links included), else the same
// absolute path once the symbolic links of their directories are resolved.
func samePath(a, b string) bool {
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	if aerr == nil && berr == nil {
		return os.SameFile(ai, bi)
	}
	return resolvePath(a) == resolvePath(b)
}

// resolvePath returns p made absolute with the symbolic links of its
// directory (and of p itself, if it is a dangling link) resolved as far as
// they exist.
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if dest, err := os.Readlink(abs); err == nil {
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(abs), dest)
		}
		abs = filepath.Clean(dest)
	}
	dir, base := filepath.Dir(abs), filepath.Base(abs)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	return filepath.Join(dir, base)
}

// startsWith reports whether the file at path begins with prefix (after a
// UTF-8 byte-order mark, if any).
func startsWith(path, prefix string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(prefix)+3)
	n, _ := io.ReadFull(bufio.NewReader(f), buf)
	s := strings.TrimPrefix(string(buf[:n]), "\uFEFF")
	return strings.HasPrefix(s, prefix)
}
